"""Set a model's threshold from live faces of the camera it will serve, no attack needed.

A threshold fixed on one dataset's development set rarely suits another
camera: lighting and optics move every live score. What a deployer can always
collect is live faces from their own camera, so this sets the threshold to the
score below which a chosen share of those faces fall: the BPCER is then what
was asked for on that camera. It says nothing about APCER, which only attacks
can measure, and it helps only a model whose live and attack scores are
ranked well on that camera (see the README's "Across datasets" section).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from liveness.cards import ModelCard, card_path_for, model_stem, sha256_of
from liveness.detect import boxes_of
from liveness.engine import LivenessEngine
from liveness.errors import InputError
from liveness.io.media import iter_frames

log = logging.getLogger(__name__)

FEW_FACES = 100  # below this many faces the quantile moves with every face
SATURATED = 1e-3  # live scores this close to the top cannot be told apart
# a threshold this many log-odds below the card's (0.54 -> 0.01) lets through attacks the model was
# sure of on its own validation: the model does not rank this camera's faces, calibration cannot help
IMPLAUSIBLE_DROP = 4.0


@dataclass
class Calibration:
    threshold: float
    bpcer: float
    n_faces: int
    frames_without_face: int
    previous_threshold: float
    previous_bpcer: float
    sources: list[str]
    detector: str | None = None  # whose boxes the live faces were cut with; the card records it

    def to_json(self) -> dict:
        return {**self.__dict__, "made": datetime.now(timezone.utc).isoformat(timespec="seconds")}

    @property
    def threshold_source(self) -> str:
        return (
            f"BPCER {self.bpcer:.1%} on {self.n_faces} live faces from "
            f"{', '.join(self.sources)} (liveness calibrate)"
        )

    def card_metrics(self) -> dict:
        return {"calibration": self.to_json()}


@dataclass
class DevelopmentThreshold:
    """The EER threshold of a labelled development run, with the error rates it gives on that
    run and on the test runs recorded beside it (ISO/IEC 30107-3: fix on development, then test)."""

    threshold: float
    development: str
    results: dict[str, dict]
    detector: str | None = None  # a development run's detector is not known here: the card's stays

    @property
    def threshold_source(self) -> str:
        return f"EER on {self.development} (liveness calibrate --threshold-from)"

    def card_metrics(self) -> dict:
        return {name: {"threshold_from": self.development, **found} for name, found in self.results.items()}


def live_scores(
    engine: LivenessEngine, sources: Sequence[str | Path], skip: int = 1
) -> tuple[np.ndarray, int]:
    """Score the most confident face of every frame; also count the frames without one."""
    from tqdm import tqdm

    scores, missed = [], 0
    for source in sources:
        for frame in tqdm(iter_frames(source, skip), desc=f"scoring {Path(source).name}", unit="frame"):
            faces = engine.detector.detect(frame.image)  # most confident first
            if not faces:
                missed += 1
                continue
            scores.append(engine.score_faces(frame.image, faces[:1])[0].score)
    return np.array(scores, dtype=np.float64), missed


def calibrate(
    engine: LivenessEngine, sources: Sequence[str | Path], bpcer: float = 0.05, skip: int = 1
) -> Calibration:
    """The threshold that refuses a share `bpcer` of the live faces found in `sources`."""
    if not 0.0 < bpcer < 0.5:
        raise InputError(f"--bpcer must be between 0 and 0.5, got {bpcer}")
    scores, missed = live_scores(engine, sources, skip)
    if len(scores) == 0:
        raise InputError(f"no face found in {', '.join(map(str, sources))}; nothing to calibrate on")
    names = [str(s) for s in sources]
    return from_live_scores(scores, bpcer, engine.threshold, names, missed, boxes_of(engine.detector))


def from_live_scores(
    scores: np.ndarray,
    bpcer: float,
    previous_threshold: float,
    sources: list[str],
    missed: int = 0,
    detector: str | None = None,
) -> Calibration:
    """The threshold below which a share `bpcer` of these live-face scores fall."""
    if len(scores) < FEW_FACES:
        log.warning("only %d live faces: the threshold will move with every face; give more", len(scores))
    threshold = float(np.quantile(scores, bpcer))
    if scores.max() - threshold < SATURATED:
        log.warning(
            "the live scores are saturated (%.0f %% within %g of the top): the threshold sits at the "
            "top of the scale; calibrate on more varied footage or keep the card's threshold",
            100 * np.mean(scores.max() - scores < SATURATED),
            SATURATED,
        )
    return Calibration(
        threshold=threshold,
        bpcer=float(np.mean(scores < threshold)),
        n_faces=len(scores),
        frames_without_face=missed,
        previous_threshold=previous_threshold,
        previous_bpcer=float(np.mean(scores < previous_threshold)),
        sources=sources,
        detector=detector,
    )


def implausible(calibration: Calibration) -> str | None:
    """Why a calibrated threshold should not be used without `--force`, or None: one far below the
    card's accepts nearly every attack its validation refused."""
    new, old = _logit(calibration.threshold), _logit(calibration.previous_threshold)
    if old - new < IMPLAUSIBLE_DROP:
        return None
    return (
        f"the threshold this camera's live faces need, {calibration.threshold:.4f}, is far below the "
        f"model's own {calibration.previous_threshold:.4f}: at it the model would accept nearly every "
        "attack it refused on its validation. The model does not tell this camera's live faces from "
        "attacks; try another model (--model), or give --force to write it anyway"
    )


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def from_development(development: str | Path, records: Sequence[str | Path] = ()) -> DevelopmentThreshold:
    """Fix the threshold at the frame-level EER of a development run of `liveness evaluate`, and
    judge it and the `records` runs (their saved scores, not rescored) at that threshold.

    Each run is named by its report folder, e.g. reports/replay-attack-devel -> replay-attack-devel.
    """
    from liveness.evaluate.run import frame_report, read_scores, threshold_from, video_report

    runs = [_scores_file(Path(path)) for path in (development, *records)]
    names = [scores.parent.name for scores in runs]
    if len(set(names)) != len(names):
        raise InputError(f"runs must come from differently named report folders, got {names}")
    threshold = threshold_from(development)  # exactly what `liveness evaluate --threshold-from` applies
    scored = [read_scores(scores) for scores in runs]
    results = {
        name: {"frame_level": frame_report(run, threshold), "video_level": video_report(run, threshold)}
        for name, run in zip(names, scored, strict=True)
    }
    return DevelopmentThreshold(threshold, names[0], results)


def _scores_file(path: Path) -> Path:
    """The scores.csv of a report folder, of its report.json, or the file itself."""
    scores = path / "scores.csv" if path.is_dir() else path.with_name("scores.csv")
    if not scores.is_file():
        raise InputError(f"{path}: no scores.csv of a `liveness evaluate` run there")
    return scores


def write_calibrated(
    model: str | Path, calibration: Calibration | DevelopmentThreshold, out_dir: Path
) -> Path:
    """Copy the model's files into `out_dir` with a card carrying the new threshold.

    The original stays untouched (it may be the shipped model inside the package).
    """
    stem = model_stem(Path(model))
    card_file = card_path_for(stem)
    card = ModelCard.load(card_file)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in card.files:  # the weights (.keras, .tflite) the card vouches for
        shutil.copy2(stem.parent / name, out_dir / name)
    new = card.replace(
        threshold=calibration.threshold,
        threshold_source=calibration.threshold_source,
        metrics={**card.metrics, **calibration.card_metrics()},
        files={name: sha256_of(out_dir / name) for name in card.files},
        detector=calibration.detector or card.detector,
    )
    path = out_dir / card_file.name
    new.save(path)
    return path
