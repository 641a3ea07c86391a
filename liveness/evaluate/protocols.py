"""Building blocks of the reproducible protocols under `benchmarks/`.

Faces of a dataset index are gathered once (crops for training, boxes for
scoring); every system is then scored on those same full frames and boxes.
"""

from __future__ import annotations

import csv
from pathlib import Path

from liveness.data.gather import GatherOptions, gather
from liveness.data.manifest import read_rows
from liveness.detect import create_detector
from liveness.evaluate.dataset import EvalSample, sample_from_row
from liveness.types import Face


def index_rows(index: Path, split: str | None, every: int = 1) -> list[dict[str, str]]:
    rows = read_rows(index)
    return [r for r in rows if split is None or r.get("split") == split][::every]


def gathered(index: Path, split: str | None, out: Path, margin: float, every: int = 1) -> Path:
    """Gather the faces of one split once (later runs reuse the manifest); returns the manifest."""
    manifest = out / "manifest.csv"
    if not manifest.is_file():
        rows = index_rows(index, split, every)
        subset = out.with_suffix(".index.csv")
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(subset, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({**r, "path": str(index.parent / r["path"])} for r in rows)
        gather(str(subset), out, create_detector("res10"), GatherOptions(margin=margin))
    return manifest


def frame_samples(
    index: Path, split: str | None, manifest: Path, every: int = 1
) -> tuple[list[EvalSample], list[Face | None]]:
    """Full frames of a split with the gathered face box of each (None: no face was found)."""
    boxes = {r["source"]: r for r in read_rows(manifest)}
    samples, faces = [], []
    for row in index_rows(index, split, every):
        sample = sample_from_row(index.parent, row)
        samples.append(sample)
        path = sample.path.as_posix()
        hit = boxes.get(path)
        faces.append(
            Face(*(int(hit[k]) for k in "xywh"), confidence=float(hit["confidence"])) if hit else None
        )
    return samples, faces
