"""The inference engine: one place where frames become liveness verdicts.

It owns the face detector, the model card and a runtime backend. The demo,
the web app and evaluation ask the engine and nothing else, so they all crop,
batch and threshold faces in exactly the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from liveness.cards import ModelCard, card_path_for, model_stem, read_label_names, sha256_of
from liveness.detect import DEFAULT_DETECTOR, FaceDetector, boxes_of, create_detector
from liveness.engine.backends import Backend, open_model_backend
from liveness.errors import ModelLoadError
from liveness.preprocess import context_crop, to_model_input
from liveness.resources import BUNDLED_MODELS, model_location
from liveness.types import Face, Verdict

log = logging.getLogger(__name__)


class LivenessEngine:
    """Detect faces, score each one as real or attack, in one batch per frame."""

    def __init__(
        self,
        card: ModelCard,
        backend: Backend,
        detector: FaceDetector | None = None,
        threshold: float | None = None,
    ) -> None:
        self.card = card
        self.backend = backend
        self.detector = detector
        self.threshold = card.threshold if threshold is None else threshold
        if detector is not None and boxes_of(detector) != card.detector:
            log.warning(
                "model %s was trained and calibrated on %s faces, this engine detects them with %s: "
                "its boxes differ, so its scores and threshold may not hold (liveness calibrate on "
                "this detector, or --detector-type %s)",
                card.name,
                card.detector,
                detector.name,
                card.detector,
            )

    @classmethod
    def load(
        cls,
        model: str | Path | None = None,
        *,
        detector: FaceDetector | None = None,
        detector_type: str = DEFAULT_DETECTOR,
        detector_options: dict | None = None,
        runtime: str = "auto",
        label_file: str | Path | None = None,
        threshold: float | None = None,
    ) -> LivenessEngine:
        """Load a model by any of its files or a bundled model's name (default: the shipped model) and a
        detector."""
        stem = model_stem(model_location(model))
        card = load_card(stem)
        if label_file is not None:
            _check_labels(card, Path(label_file))
        backend = open_model_backend(stem, card, runtime)
        if detector is None:
            detector = create_detector(detector_type, **(detector_options or {}))
        log.info(
            "model %s (%s, %s runtime), detector %s",
            stem.name,
            card.architecture,
            backend.name,
            detector.name,
        )
        return cls(card, backend, detector, threshold)

    def describe(self) -> dict[str, object]:
        """Which model this is, as a run records it: name, architecture, the card's weight files
        with their sha256, the threshold in use and the detector."""
        return {
            "name": self.card.name,
            "architecture": self.card.architecture,
            "files": dict(self.card.files),
            "threshold": self.threshold,
            "detector": getattr(self.detector, "name", None),
        }

    def score_crops(self, batch: np.ndarray) -> np.ndarray:
        """Real-probabilities for a ready model-input batch (N, size, size, 3)."""
        if batch.shape[0] == 0:
            return np.empty(0, dtype=np.float32)
        return self.backend.run(batch)[:, self.card.real_index]

    def score_faces(self, frame: np.ndarray, faces: Sequence[Face]) -> list[Verdict]:
        """Crop every face as the card says and score them all in one batch (one per member when
        the card gives each member its own context, as the Silent-Face pair has)."""
        if not faces:
            return []
        if self.card.member_crop_scales:
            members = self.backend.members  # type: ignore[attr-defined]  # a MeanBackend: the card has members
            pairs = zip(members, self.card.member_crop_scales, strict=True)
            probabilities = np.mean([m.run(self.model_input(frame, faces, s)) for m, s in pairs], axis=0)
            scores = probabilities[:, self.card.real_index]
        else:
            scores = self.score_crops(self.model_input(frame, faces, self.card.crop_scale))
        return [Verdict(f, float(s), self.label_for(float(s))) for f, s in zip(faces, scores, strict=False)]

    def model_input(self, frame: np.ndarray, faces: Sequence[Face], scale: float) -> np.ndarray:
        """The faces cut by the card's crop rule at `scale`, as one NHWC 0-255 batch in its colours."""
        crops = [context_crop(frame, face.box, scale, self.card.crop_rule) for face in faces]
        return to_model_input(crops, self.card.input_size, self.card.color_order, self.card.resize)

    def analyse(self, frame: np.ndarray, faces_from: FaceDetector | None = None) -> list[Verdict]:
        """Detect the faces of a BGR frame and score them; `faces_from` replaces the engine's
        detector for this frame (a stream's `FaceFollower`)."""
        detector = faces_from or self.detector
        if detector is None:
            raise ModelLoadError("this engine was built without a face detector")
        return self.score_faces(frame, detector.detect(frame))

    def label_for(self, score: float) -> str:
        return "real" if score >= self.threshold else "spoof"


def load_card(stem: Path) -> ModelCard:
    """The card of the model at `stem`, refused if a weight file beside it is not the one it vouches for."""
    path = card_path_for(stem)
    if not path.is_file():
        present = [p.name for p in stem.parent.glob(stem.name + ".*")] if stem.parent.is_dir() else []
        raise ModelLoadError(
            f"model card {path} not found"
            + (f" (found {present})" if present else "")
            + "; models are trained with `liveness train`, which writes the card; bundled models: "
            + ", ".join(BUNDLED_MODELS)
        )
    card = ModelCard.load(path)
    for name, digest in card.files.items():
        file = stem.parent / name
        if file.is_file() and sha256_of(file) != digest:
            raise ModelLoadError(f"{file} does not match the sha256 in its model card {path}")
    return card


def _check_labels(card: ModelCard, label_file: Path) -> None:
    names = read_label_names(label_file)
    if list(names) != list(card.class_names):
        raise ModelLoadError(
            f"label file {label_file} lists {names}, but the model was trained on {list(card.class_names)}"
        )
