#!/usr/bin/env python3
"""How well eyelid openness tells shut eyes from open ones, on another camera's people.

`liveness.decide.blink` reads openness from MediaPipe's face mesh + iris models; a blink
is a dip below 0.55 of the eyes' recent level. Blink events need video, which the
project has little of, but shut eyes can be checked frame by frame: Replay-Attack's
1,200 live frames (30 people, 10 frames a video, 1.5 s apart) catch some people
mid-blink. Each frame's openness is divided by the 80th percentile of its video's
frames (the eyes' usual level), and compared with labels in
`research/data/replay_attack_eye_labels.csv`: 100 frames, every frame whose ratio
was under 0.75 when the set was drawn (49) and 51 drawn at random from the other
1,151, each labelled shut / open / unclear by one developer looking at enlarged eye
crops in shuffled order, without seeing the ratio. Paths only; the frames stay in
../shared.

    python research/eye_closure.py
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from liveness.data.manifest import read_rows
from liveness.detect.landmarks import EyeLandmarker
from liveness.evaluate.metrics import auc
from liveness.evaluate.protocols import gathered
from liveness.types import Face

REPO = Path(__file__).resolve().parents[1]
LABELS = REPO / "research" / "data" / "replay_attack_eye_labels.csv"
# the face mesh's own eye points (corner, two upper, corner, two lower), for its eye aspect ratio
MESH_EYES = ((33, 160, 158, 133, 153, 144), (362, 385, 387, 263, 373, 380))


def mesh_aspect_ratio(points: np.ndarray) -> float:
    """The classic eye aspect ratio from the mesh alone: lid distances over eye width, both eyes."""
    ratios = []
    for a, u1, u2, b, l2, l1 in MESH_EYES:
        lids = np.linalg.norm(points[u1] - points[l1]) + np.linalg.norm(points[u2] - points[l2])
        ratios.append(lids / (2 * np.linalg.norm(points[a] - points[b])))
    return float(np.mean(ratios))


def openness_ratios(manifests: list[Path], shared_root: Path) -> dict[str, dict[str, float]]:
    """Each live frame's openness (iris model) and mesh eye aspect ratio, each over its video's
    80th percentile, by measure and path under `shared_root`."""
    eyes = EyeLandmarker()
    by_video: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for manifest in manifests:
        for r in read_rows(manifest):
            if r["label"] != "real":
                continue
            face = Face(int(r["x"]), int(r["y"]), int(r["w"]), int(r["h"]), 1.0)
            image = cv2.imread(r["source"])
            reading = eyes.read(image, face)
            if reading is not None:
                path = Path(r["source"]).resolve().relative_to(shared_root.resolve()).as_posix()
                mesh = mesh_aspect_ratio(eyes.mesh_points(image, face))
                by_video[r["video_id"]].append((path, reading.openness, mesh))
    ratios: dict[str, dict[str, float]] = {"iris": {}, "mesh": {}}
    for frames in by_video.values():
        for column, measure in ((1, "iris"), (2, "mesh")):
            level = np.percentile([f[column] for f in frames], 80)
            ratios[measure].update({f[0]: f[column] / level for f in frames})
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    shared = Path(os.environ.get("LIVENESS_SHARED_DIR", REPO.parent / "shared"))
    parser.add_argument("--shared", type=Path, default=shared)
    parser.add_argument(
        "--work", type=Path, default=Path("/tmp/liveness-cross/margin1"), help="gathered faces (reused)"
    )
    args = parser.parse_args()
    root = args.shared / "data" / "replay-attack"
    manifests = [gathered(root / "index.csv", s, args.work / f"ra_{s}", 1.0) for s in ("train", "devel")]
    measures = openness_ratios(manifests, root)
    ratios = measures["iris"]
    labels = [r for r in read_rows(LABELS) if r["eyes"] != "unclear"]
    shut = np.array([r["eyes"] == "shut" for r in labels])
    ratio = np.array([ratios[r["path"]] for r in labels])
    mesh = np.array([measures["mesh"][r["path"]] for r in labels])
    n_shut, n_open = int(shut.sum()), int((~shut).sum())
    print(f"{len(ratios)} live frames read; labelled: {n_shut} shut, {n_open} open (unclear left out)")
    print(
        f"AUC for shut against open eyes: iris-model openness {auc(shut, -ratio):.3f}, face-mesh eye "
        f"aspect ratio {auc(shut, -mesh):.3f} (lowest shut frame at {mesh[shut].min():.2f} of its level)"
    )
    print(
        "| closed below (x eyes' level) | shut frames caught | open frames flagged | all live frames below |"
    )
    print("|---|---|---|---|")
    every = np.array(list(ratios.values()))
    for limit in (0.45, 0.55, 0.65):
        caught, flagged = ((ratio < limit) & shut).sum(), ((ratio < limit) & ~shut).sum()
        print(f"| {limit} | {caught}/{n_shut} | {flagged}/{n_open} | {(every < limit).sum()}/{len(every)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
