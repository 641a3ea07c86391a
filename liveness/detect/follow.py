"""Following one stream's face: the detector runs only when the picture asks for it.

At 15-30 frames a second a face barely moves from one frame to the next, so most frames need no
detector: the last detection's box is kept while the pixels inside it still look the same (a
24x24 grey thumbnail, normalised cross-correlation at least MIN_SIMILARITY) and for at most
`every` - 1 frames after a detection. Any doubt detects again: the thumbnail changed (the face
moved, turned or blinked hard, or another face took its place), the last detection found no face
or several, or the frame's size changed. On the shared clips consecutive frames of one face score
0.987 or more (5th percentile); another person's face in the same box scores 0.32.

A box is never carried onto another face: a new face changes the thumbnail, and the next
scheduled detection comes within `every` frames whatever happens. One follower per stream; it is
not thread-safe.
"""

from __future__ import annotations

import cv2
import numpy as np

from liveness.detect import FaceDetector, boxes_of
from liveness.preprocess import ensure_bgr
from liveness.types import Face

THUMB = 24
MIN_SIMILARITY = 0.97
EVERY = 3  # the detector runs on at least every third frame


def thumbnail(image: np.ndarray, face: Face) -> np.ndarray:
    """The face's pixels as a zero-mean, unit-length vector of a small grey copy."""
    grey = cv2.cvtColor(image[face.y : face.y + face.h, face.x : face.x + face.w], cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    small -= small.mean()
    return small / (float(np.linalg.norm(small)) + 1e-6)


class FaceFollower:
    """A detector for one stream of frames: `detector`'s faces, detected again only on doubt."""

    def __init__(self, detector: FaceDetector, every: int = EVERY, min_similarity: float = MIN_SIMILARITY):
        self.detector = detector
        self.name = detector.name
        self.boxes = boxes_of(detector)
        self.every = every
        self.min_similarity = min_similarity
        self.detections = self.kept = 0  # how often each path ran (the benchmarks report it)
        self._face: Face | None = None
        self._thumb: np.ndarray | None = None
        self._shape: tuple[int, ...] = ()
        self._since = 0

    def detect(self, image: np.ndarray) -> list[Face]:
        image = ensure_bgr(image)
        if self._may_keep(image):
            self._since += 1
            self.kept += 1
            return [self._face]  # type: ignore[list-item]
        faces = self.detector.detect(image)
        self.detections += 1
        self._since = 0
        self._shape = image.shape
        one = len(faces) == 1
        self._face = faces[0] if one else None
        self._thumb = thumbnail(image, faces[0]) if one else None
        return faces

    def _may_keep(self, image: np.ndarray) -> bool:
        if self._face is None or self._since + 1 >= self.every or image.shape != self._shape:
            return False
        return float(thumbnail(image, self._face) @ self._thumb) >= self.min_similarity
