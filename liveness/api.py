"""The Python API: one object that answers "is this a live face?" for a photo or a recorded clip.

    from liveness import LivenessChecker
    checker = LivenessChecker()                   # shipped model, res10 detector
    result = checker.check_image("face.jpg")      # a path, or a BGR numpy array
    result.decision, result.reason, result.score  # 'live' / 'attack' / 'uncertain'
    clip = checker.check_video("selfie.mp4")      # the streamed check's rules on a recorded clip

It is a thin layer over the objects the CLI and the web app use (the engine,
the quality gates and the shared decision window), so a photo checked here gets
the answer `liveness check` prints and `POST /api/v1/check` returns. A checker
is not thread-safe: give each thread its own, or hold a lock around calls.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from liveness.checker import FrameChecker, check_clip
from liveness.decide.quality import QualityLimits
from liveness.decide.window import WindowConfig
from liveness.detect import DEFAULT_DETECTOR, FaceDetector, create_detector
from liveness.engine import LivenessEngine
from liveness.errors import InputError
from liveness.io.media import read_image
from liveness.preprocess import ensure_bgr


@dataclass(frozen=True)
class FaceResult:
    """One detected face: its box `(x, y, w, h)` in pixels, its real-probability and label."""

    box: tuple[int, int, int, int]
    score: float
    label: str
    detector_confidence: float


@dataclass(frozen=True)
class CheckResult:
    """A decision and why: `decision` is 'live', 'attack' or 'uncertain' (no usable face, several
    faces, too dark, frames that disagree...); `score` is the real-probability the decision rests on
    (None when nothing could be judged). `details` holds the rest of the JSON answer (frames read,
    blinks, ...); `to_dict()` is that answer whole."""

    decision: str
    reason: str
    score: float | None
    threshold: float
    model: str
    faces: list[FaceResult] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_live(self) -> bool:
        return self.decision == "live"

    def to_dict(self) -> dict[str, Any]:
        """The JSON the web API and `liveness check` give for the same input."""
        faces = [{**asdict(f), "box": list(f.box)} for f in self.faces]
        answer = {"decision": self.decision, "reason": self.reason, "score": self.score, "faces": faces}
        return {**answer, **self.details, "model": self.model, "threshold": self.threshold}


class LivenessChecker:
    """Load a model and a face detector once; check photos and clips with them.

    `model`: any file of a model (`.card.json`, `.tflite`, `.keras`, or an imported ONNX card);
    default the shipped model. `detector`: 'res10-fast' (default), 'res10', 'blazeface' or
    'blazeface-full', or a detector object (`liveness.detect.create_detector`); `confidence`
    applies to a named one.
    `threshold`: overrides the card's (e.g. one `liveness calibrate` found for your camera).
    `blink`: count blinks in clips (needs the MediaPipe landmark files, see the README);
    `require_blink`: a clip is 'live' only once the face has blinked.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        detector: str | FaceDetector = DEFAULT_DETECTOR,
        threshold: float | None = None,
        min_face: int = QualityLimits.min_face_px,
        confidence: float = 0.5,
        blink: bool = False,
        require_blink: bool = False,
    ) -> None:
        if isinstance(detector, str):
            detector = create_detector(detector, confidence=confidence)
        self.engine = LivenessEngine.load(model, detector=detector, threshold=threshold)
        self.require_blink = require_blink
        self._frames = FrameChecker.build(self.engine, min_face, eyes=blink or require_blink)

    @property
    def threshold(self) -> float:
        return self.engine.threshold

    def check_image(self, image: str | Path | np.ndarray) -> CheckResult:
        """One photo: a path to an image file, or a BGR (or grey / BGRA) uint8 array."""
        if isinstance(image, str | Path):
            frame = read_image(image)
        elif isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.size:
            try:
                frame = ensure_bgr(image)
            except ValueError as exc:
                raise InputError(str(exc)) from None
        else:
            raise InputError("expected an image path or a non-empty uint8 numpy array (BGR, grey or BGRA)")
        return self._result(self._frames.check_image(frame))

    def check_video(self, path: str | Path, config: WindowConfig | None = None) -> CheckResult:
        """A recorded clip, judged as the web page's streamed check judges a camera: about two
        seconds of judgeable frames whose scores agree (and a blink first with `require_blink`)."""
        return self._result(check_clip(path, self._frames, self.require_blink, config))

    def _result(self, answer: dict[str, Any]) -> CheckResult:
        answer = dict(answer)
        faces = [
            FaceResult(tuple(f["box"]), f["score"], f["label"], f["detector_confidence"])
            for f in answer.pop("faces", [])
        ]
        decision, reason, score = answer.pop("decision"), answer.pop("reason"), answer.pop("score", None)
        return CheckResult(
            decision=str(decision),
            reason=str(reason),
            score=None if score is None else round(float(score), 4),
            threshold=round(self.engine.threshold, 4),
            model=self.engine.card.name,
            faces=faces,
            details=answer,
        )
