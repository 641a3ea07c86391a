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
from liveness.data.sources import iter_frames
from liveness.engine import LivenessEngine
from liveness.errors import InputError

log = logging.getLogger(__name__)

FEW_FACES = 100  # below this many faces the quantile moves with every face
SATURATED = 1e-3  # live scores this close to the top cannot be told apart


@dataclass
class Calibration:
    threshold: float
    bpcer: float
    n_faces: int
    frames_without_face: int
    previous_threshold: float
    previous_bpcer: float
    sources: list[str]

    def to_json(self) -> dict:
        return {**self.__dict__, "made": datetime.now(timezone.utc).isoformat(timespec="seconds")}


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
    return from_live_scores(scores, bpcer, engine.threshold, [str(s) for s in sources], missed)


def from_live_scores(
    scores: np.ndarray, bpcer: float, previous_threshold: float, sources: list[str], missed: int = 0
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
    )


def write_calibrated(model: str | Path, calibration: Calibration, out_dir: Path) -> Path:
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
        threshold_source=(
            f"BPCER {calibration.bpcer:.1%} on {calibration.n_faces} live faces from "
            f"{', '.join(calibration.sources)} (liveness calibrate)"
        ),
        metrics={**card.metrics, "calibration": calibration.to_json()},
        files={name: sha256_of(out_dir / name) for name in card.files},
    )
    path = out_dir / card_file.name
    new.save(path)
    return path
