"""Score an evaluation set with any scorer and write the report files.

Faces are detected once per image (or taken from a gather manifest), the
most confident face is scored, and images with no face are counted as
failures to detect, never silently dropped. Videos are read once, frame by
frame, and can have their face's blinks counted on the way.
"""

from __future__ import annotations

import csv
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from liveness.data.manifest import read_rows
from liveness.decide.blink import BlinkCounter
from liveness.detect import FaceDetector
from liveness.detect.landmarks import EyeLandmarker
from liveness.errors import ConfigError, InputError
from liveness.evaluate.dataset import EvalSample
from liveness.evaluate.metrics import eer
from liveness.evaluate.report import pad_metrics
from liveness.evaluate.scorers import Scorer
from liveness.io.media import iter_video, read_image, video_rate
from liveness.types import Face

log = logging.getLogger(__name__)
MIN_BLINK_FPS = 10  # a blink lasts 0.1-0.4 s: slower sampling misses many (tests/test_blink.py)


@dataclass
class ScoredSet:
    """Samples with their scores (NaN where no face was found)."""

    samples: list[EvalSample]
    scores: np.ndarray
    blinks: dict[str, int] | None = None  # blinks seen in each video (by video_id), when counted

    def detected(self) -> np.ndarray:
        return ~np.isnan(self.scores)

    def __add__(self, other: ScoredSet) -> ScoredSet:
        blinks = (
            None
            if self.blinks is None and other.blinks is None
            else {**(self.blinks or {}), **(other.blinks or {})}
        )
        return ScoredSet(self.samples + other.samples, np.concatenate([self.scores, other.scores]), blinks)


def find_faces(samples: Sequence[EvalSample], detector: FaceDetector | None) -> list[Face | None]:
    """The face to score in each sample: its manifest box, else the most confident detection."""
    faces: list[Face | None] = []
    for sample in tqdm(samples, desc="detecting faces", unit="img", leave=False):
        if sample.box is not None:
            faces.append(Face(*sample.box, confidence=1.0))
            continue
        if detector is None:
            raise ConfigError("samples without face boxes need a face detector")
        try:
            found = detector.detect(read_image(sample.path))
        except InputError as exc:
            log.warning("counted as a failure to detect: %s", exc)
            found = []
        faces.append(found[0] if found else None)
    return faces


def score_samples(scorer: Scorer, samples: Sequence[EvalSample], faces: Sequence[Face | None]) -> ScoredSet:
    scores = np.full(len(samples), np.nan)
    for i, (sample, face) in enumerate(
        tqdm(list(zip(samples, faces, strict=True)), desc=scorer.name, unit="img", leave=False)
    ):
        if face is None:
            continue
        try:
            image = read_image(sample.path)
        except InputError as exc:  # a box from a manifest, but the file is unreadable now
            log.warning("counted as a failure to detect: %s", exc)
            continue
        face = _clip(face, image.shape[1], image.shape[0])
        scores[i] = float(scorer.score(image, [face])[0])
    return ScoredSet(list(samples), scores)


def score_videos(
    scorer: Scorer,
    videos: Sequence[EvalSample],
    detector: FaceDetector,
    every: int = 1,
    eyes: EyeLandmarker | None = None,
) -> ScoredSet:
    """Every `every`-th frame of each video scored (its most confident face), one sample a
    frame; with `eyes`, each video's blinks counted on the way, timed by its frame rate. A video
    that cannot be read, or shows no face, counts as failures to detect."""
    samples: list[EvalSample] = []
    scores: list[float] = []
    blinks: dict[str, int] = {}
    for video in tqdm(videos, desc=f"{scorer.name} (videos)", unit="video", leave=False):
        counter, found = BlinkCounter(), 0
        try:
            fps = video_rate(video.path)
            if eyes is not None and fps / every < MIN_BLINK_FPS:
                log.warning(
                    "%s: reading %.1f frames a second; blinks need about %d (lower --every)",
                    video.path,
                    fps / every,
                    MIN_BLINK_FPS,
                )
            for frame in iter_video(video.path, every):
                faces = detector.detect(frame.image)[:1]
                samples.append(replace(video, frame=frame.index))
                scores.append(float(scorer.score(frame.image, faces)[0]) if faces else np.nan)
                if eyes is not None:
                    counter.update(frame.index / fps, eyes.read(frame.image, faces[0]) if faces else None)
                found += 1
        except InputError as exc:
            log.warning("counted as a failure to detect: %s", exc)
        if not found:
            samples.append(video)
            scores.append(np.nan)
        blinks[video.video_id] = counter.count
    return ScoredSet(samples, np.array(scores, dtype=np.float64), blinks if eyes is not None else None)


def _clip(face: Face, width: int, height: int) -> Face:
    w, h = min(face.w, width - face.x), min(face.h, height - face.y)
    return face if (w, h) == (face.w, face.h) else Face(face.x, face.y, max(1, w), max(1, h), face.confidence)


def frame_report(scored: ScoredSet, threshold: float, declared: Sequence[str] = ()) -> dict[str, Any]:
    ok = scored.detected()
    samples = [s for s, keep in zip(scored.samples, ok, strict=True) if keep]
    return pad_metrics(
        np.array([s.is_real for s in samples], dtype=bool),
        scored.scores[ok],
        [s.attack for s in samples],
        threshold,
        failures_to_detect=int((~ok).sum()),
        declared_species=declared,
    )


def video_scores(scored: ScoredSet) -> tuple[list[EvalSample], np.ndarray]:
    """One sample per video_id with the mean score of its detected frames (NaN if none)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, sample in enumerate(scored.samples):
        groups[sample.video_id].append(i)
    firsts, means = [], []
    for indices in groups.values():
        values = scored.scores[indices]
        firsts.append(scored.samples[indices[0]])
        means.append(float(np.nanmean(values)) if np.isfinite(values).any() else np.nan)
    return firsts, np.array(means)


def video_report(scored: ScoredSet, threshold: float, declared: Sequence[str] = ()) -> dict[str, Any] | None:
    if not all(s.video_id for s in scored.samples):
        return None
    videos, means = video_scores(scored)
    return frame_report(ScoredSet(videos, means), threshold, declared)


def blink_gated_report(
    scored: ScoredSet, threshold: float, declared: Sequence[str] = ()
) -> dict[str, Any] | None:
    """Video level as `--require-blink` decides: a video in which no blink was seen scores 0."""
    if scored.blinks is None or not all(s.video_id for s in scored.samples):
        return None
    videos, means = video_scores(scored)
    blinked = np.array([bool(scored.blinks.get(v.video_id)) for v in videos])
    gated = np.where(blinked | np.isnan(means), means, 0.0)  # a video without a face stays undetected
    return frame_report(ScoredSet(videos, gated), threshold, declared)


def threshold_from(path: str | Path) -> float:
    """The EER threshold fixed on a development run: its report folder's report.json, or its scores.csv."""
    path = Path(path)
    if path.is_dir():
        path = path / "report.json"
    if not path.is_file():
        raise ConfigError(f"--threshold-from: {path} not found")
    if path.suffix == ".json":
        try:
            value = json.loads(path.read_text())["frame_level"]["eer_threshold"]
        except (KeyError, TypeError, json.JSONDecodeError):
            raise ConfigError(f"{path} is not a report.json with frame_level.eer_threshold") from None
        if value is None:
            raise ConfigError(f"{path}: the development run has no EER threshold (one class only?)")
        return float(value)
    scored = read_scores(path)
    ok = scored.detected()
    found = eer(np.array([s.is_real for s in scored.samples])[ok], scored.scores[ok])
    if found is None:
        raise ConfigError(f"{path}: needs scored real and attack rows to fix an EER threshold")
    return found[1]


def read_scores(path: str | Path) -> ScoredSet:
    """The scores.csv of an earlier run, to judge its scores at another threshold without rescoring."""
    rows = read_rows(Path(path))
    if not rows or not {"label", "score"} <= set(rows[0]):
        raise ConfigError(f"{path} is not a scores.csv written by `liveness evaluate`")
    samples = [
        EvalSample(
            Path(r["path"]),
            r["label"] == "real",
            r.get("attack", ""),
            r.get("subject", ""),
            r.get("video_id", ""),
            frame=int(r["frame"]) if r.get("frame", "").isdigit() else None,
        )
        for r in rows
    ]
    try:
        scores = np.array([float(r["score"]) if r["score"] else np.nan for r in rows])
    except ValueError as exc:
        raise ConfigError(f"{path}: a score is not a number ({exc})") from None
    return ScoredSet(samples, scores)


def write_scores(path: Path, scored: ScoredSet, threshold: float) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "frame", "label", "attack", "subject", "video_id", "score", "decision"])
        for sample, score in zip(scored.samples, scored.scores, strict=True):
            detected = np.isfinite(score)
            decision = ("real" if score >= threshold else "spoof") if detected else "no_face"
            writer.writerow(
                [
                    sample.path.as_posix(),
                    "" if sample.frame is None else sample.frame,
                    sample.label,
                    sample.attack,
                    sample.subject,
                    sample.video_id,
                    f"{score:.6f}" if detected else "",
                    decision,
                ]
            )
