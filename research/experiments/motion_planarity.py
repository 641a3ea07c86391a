#!/usr/bin/env python3
"""Does a photo move like a plane? A training-free motion cue, measured on two datasets.

A printed photo or a photo on a screen is flat: however it is moved, its face
landmarks in one frame map onto another frame's by a homography. A live head
turns and its landmarks do not (the nose moves against the cheeks). For every
pair of frames of a clip this fits a homography between the face mesh's 468
landmarks (least squares) and takes the median misfit over the eye distance;
a clip's score is the largest over its pairs. Nothing is trained, so a cue that
works would work on any camera.

Clips: Replay-Attack train + devel (10 frames of each video, 1.5 s apart); NUAA
(each subject's session sorted by frame number, cut into runs of 10 images).
Prints the AUC of the score as a "real" score, per attack species.

    python research/experiments/motion_planarity.py
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from liveness.data.manifest import read_rows
from liveness.detect.landmarks import EyeLandmarker
from liveness.evaluate.metrics import auc
from liveness.evaluate.protocols import gathered
from liveness.types import Face

REPO = Path(__file__).resolve().parents[2]
CLIP = 10


def clips(manifest: Path, nuaa: bool) -> dict[str, list[dict[str, str]]]:
    """Rows grouped into clips of up to CLIP frames in time order."""
    rows = read_rows(manifest)
    if not nuaa:
        grouped = defaultdict(list)
        for r in rows:
            grouped[r["video_id"]].append(r)
        return {k: sorted(v, key=lambda r: r["source"])[:CLIP] for k, v in grouped.items()}
    sessions = defaultdict(list)
    for r in rows:
        sessions[(r["label"], r["video_id"], r["session"])].append(r)
    out = {}
    for key, rs in sessions.items():
        rs.sort(key=lambda r: int(re.findall(r"(\d+)\.\w+$", r["source"])[0]))
        for start in range(0, len(rs) - CLIP // 2, CLIP):
            out[f"{key}:{start}"] = rs[start : start + CLIP]
    return out


def misfit(mesh: EyeLandmarker, rows: list[dict[str, str]]) -> float:
    """Largest median homography misfit over the clip's frame pairs, in eye distances."""
    points = []
    for r in rows:
        face = Face(int(r["x"]), int(r["y"]), int(r["w"]), int(r["h"]), 1.0)
        points.append(mesh.mesh_points(cv2.imread(r["source"]), face))
    eyes = np.median([np.linalg.norm(p[33] - p[263]) for p in points])
    worst = 0.0
    for a, b in itertools.combinations(points, 2):
        homography, _ = cv2.findHomography(a, b, 0)
        mapped = cv2.perspectiveTransform(a[None].astype(np.float64), homography)[0]
        worst = max(worst, float(np.median(np.linalg.norm(mapped - b, axis=1)) / eyes))
    return worst


def table(name: str, manifest: Path, nuaa: bool, mesh: EyeLandmarker) -> str:
    scored = [(rows[0], misfit(mesh, rows)) for rows in clips(manifest, nuaa).values() if len(rows) >= 3]
    is_real = np.array([r["label"] == "real" for r, _ in scored])
    values = np.array([v for _, v in scored])
    species = defaultdict(list)
    for i, (r, _) in enumerate(scored):
        if r["label"] != "real":
            medium = r.get("attack_medium") or r.get("attack") or "attack"
            species[f"{medium}-{r['attack_content']}" if r.get("attack_content") else medium].append(i)
    real = np.flatnonzero(is_real)
    per = ", ".join(
        f"{k} {auc(is_real[list(real) + v], values[list(real) + v]):.3f}" for k, v in sorted(species.items())
    )
    return f"| {name} | {is_real.sum()} / {(~is_real).sum()} | {auc(is_real, values):.3f} | {per} |"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("LIVENESS_SHARED_DIR", REPO.parent / "shared"))
    )
    parser.add_argument(
        "--work", type=Path, default=Path("/tmp/liveness-cross/margin1"), help="gathered faces (reused)"
    )
    args = parser.parse_args()
    ra, nuaa = (
        args.shared / "data" / "replay-attack" / "index.csv",
        args.shared / "data" / "nuaa" / "index.csv",
    )
    mesh = EyeLandmarker()
    print("| clips | real / attack clips | AUC, all attacks | AUC per attack species |")
    print("|---|---|---|---|")
    for split in ("train", "devel"):
        print(
            table(f"Replay-Attack {split}", gathered(ra, split, args.work / f"ra_{split}", 1.0), False, mesh)
        )
    print(table("NUAA", gathered(nuaa, None, args.work / "nuaa", 1.0), True, mesh))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
