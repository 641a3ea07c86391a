#!/usr/bin/env python3
"""Do simple image statistics tell real from attack, and in the same direction in both datasets?

For each gathered face crop (64 x 64) this measures sharpness, contrast,
saturation, the share of blown-out pixels, and the brightness and chroma of
the middle of the crop (the face), and prints, per dataset, the
AUC of each statistic alone as a "real" score (0.5: no information; near 0:
informative, but the other way round). A statistic that separates the classes
in opposite directions in two datasets is a shortcut: a network free to use it
learns one dataset's cameras and displays, and fails on the other.

    python research/experiments/dataset_shortcuts.py          # Replay-Attack train, devel and NUAA
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np
from sklearn.metrics import roc_auc_score

from liveness.data.manifest import read_rows
from liveness.evaluate.protocols import gathered

REPO = Path(__file__).resolve().parents[2]
STATISTICS = (
    "sharpness (log Laplacian variance)",
    "contrast (grey std)",
    "saturation (mean)",
    "blown-out share",
    "face brightness (grey mean, middle 60 %)",
    "face chroma (mean distance from grey, middle 60 %)",
)


def statistics(face_bgr: np.ndarray) -> np.ndarray:
    """The statistics of one face crop, resized to 64 x 64 first so resolution does not count."""
    face = cv2.resize(face_bgr, (64, 64), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY).astype(np.float32)
    hsv = cv2.cvtColor(face, cv2.COLOR_BGR2HSV).astype(np.float32)
    sharpness = np.log1p(cv2.Laplacian(grey, cv2.CV_32F).var())
    middle = face[13:51, 13:51].astype(np.float32)
    chroma = np.abs(middle - middle.mean(axis=2, keepdims=True)).mean()
    blown = (hsv[..., 2] > 230).mean()
    return np.array([sharpness, grey.std(), hsv[..., 1].mean(), blown, grey[13:51, 13:51].mean(), chroma])


def measure(manifest: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Statistics, is-real flags and attack species of every crop listed in a gather manifest."""
    rows = read_rows(manifest)
    stats = [statistics(cv2.imread(str(manifest.parent / r["path"]))) for r in rows]
    species = [f"{r.get('attack_medium', '')}-{r.get('attack_content', '')}".strip("-") for r in rows]
    return np.array(stats), np.array([r["label"] == "real" for r in rows]), np.array(species)


def cell(values: np.ndarray, real: np.ndarray) -> str:
    auc = roc_auc_score(real, values)
    return f"{auc:.2f} ({values[real].mean():.2f} / {values[~real].mean():.2f})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = Path(os.environ.get("LIVENESS_SHARED_DIR", REPO.parent / "shared"))
    p.add_argument("--shared", type=Path, default=shared)
    p.add_argument("--work", type=Path, default=Path("/tmp/liveness-cross"), help="gathered faces (reused)")
    p.add_argument("--margin", type=float, default=1.6)
    args = p.parse_args()
    ra = args.shared / "data" / "replay-attack" / "index.csv"
    nuaa = args.shared / "data" / "nuaa" / "index.csv"
    crops = args.work / f"margin{args.margin:g}"
    sets = {
        "Replay-Attack train": gathered(ra, "train", crops / "ra_train", args.margin),
        "Replay-Attack devel": gathered(ra, "devel", crops / "ra_devel", args.margin),
        "NUAA": gathered(nuaa, None, crops / "nuaa", args.margin),
    }
    measured = {name: measure(manifest) for name, manifest in sets.items()}
    print("| statistic | " + " | ".join(f"{name}: AUC (real mean / attack mean)" for name in sets) + " |")
    print("|---" * (len(sets) + 1) + "|")
    for i, stat in enumerate(STATISTICS):
        cells = [cell(values[:, i], real) for values, real, _ in measured.values()]
        print(f"| {stat} | " + " | ".join(cells) + " |")
    print_per_species("Replay-Attack train", *measured["Replay-Attack train"])
    return 0


def print_per_species(name: str, values: np.ndarray, real: np.ndarray, species: np.ndarray) -> None:
    """The same AUCs with one attack species at a time against all live faces."""
    kinds = sorted(set(species[~real]))
    print(f"\n{name}, live faces against one attack species (AUC only):\n")
    print("| statistic | " + " | ".join(kinds) + " |")
    print("|---" * (len(kinds) + 1) + "|")
    for i, stat in enumerate(STATISTICS):
        cells = [
            f"{roc_auc_score(real[real | (species == k)], values[real | (species == k), i]):.2f}"
            for k in kinds
        ]
        print(f"| {stat} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    raise SystemExit(main())
