"""Building blocks of the reproducible protocols under `benchmarks/`.

Faces of a dataset index are gathered once (crops for training, boxes for
scoring); every system is then scored on those same full frames and boxes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liveness.data.gather import GatherOptions, gather
from liveness.data.manifest import read_rows
from liveness.detect import create_detector
from liveness.evaluate.dataset import EvalSample, sample_from_row
from liveness.evaluate.scorers import Scorer
from liveness.io.media import iter_video
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
        faces.append(face_of_row(hit) if hit else None)
    return samples, faces


def face_of_row(row: dict[str, str]) -> Face:
    """The face box a gather manifest row records."""
    return Face(*(int(row[k]) for k in "xywh"), confidence=float(row["confidence"]))


@dataclass
class VideoFaces:
    """The largest face of every `every`-th frame of one labelled video."""

    path: str
    label: str
    frames: list[tuple[np.ndarray, Face]]


def video_faces(labels_csv: Path, every: int = 5, confidence: float = 0.3) -> list[VideoFaces]:
    """Faces of the shared real/spoof videos, detected once (masked faces need confidence 0.3)."""
    detector = create_detector("res10", confidence=confidence)
    videos = []
    for row in read_rows(labels_csv):
        frames = []
        for frame in iter_video(labels_csv.parent / row["path"], skip=every):
            faces = detector.detect(frame.image)
            if faces:
                frames.append((frame.image, max(faces, key=lambda f: f.w * f.h)))
        videos.append(VideoFaces(row["path"], row["label"], frames))
    return videos


def video_pairs(scorer: Scorer, videos: list[VideoFaces]) -> dict[str, object]:
    """Mean real-score per video and whether each source's real video (the videos of one
    source share the first folder of their path) outranks its spoof.

    Six videos from three sources are far too few for error rates, but each pair
    is one more camera and attack the models never saw: a model that ranks a
    pair the wrong way round has not learnt liveness there.
    """
    means = {}
    for video in videos:
        scores = [float(scorer.score(image, [face])[0]) for image, face in video.frames]
        means[video.path] = float(np.mean(scores)) if scores else None
    by_source: dict[str, dict[str, float | None]] = {}
    for video in videos:
        by_source.setdefault(video.path.split("/")[0], {})[video.label] = means[video.path]
    ordered = [
        s["real"] > s["spoof"]
        for s in by_source.values()
        if s.get("real") is not None and s.get("spoof") is not None
    ]
    decided = {
        path: ("real" if mean >= scorer.threshold else "spoof") if mean is not None else None
        for path, mean in means.items()
    }
    correct = sum(decided[v.path] == v.label for v in videos)
    return {
        "mean_score": means,
        "decision": decided,
        "pairs_ordered": sum(ordered),
        "pairs": len(ordered),
        "videos_correct": correct,
        "videos": len(videos),
    }
