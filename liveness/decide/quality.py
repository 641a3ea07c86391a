"""Quality gates that decide when a frame is fit to be judged at all.

A liveness score on a face that is tiny, dark or one of several is not
worth much; these checks turn such frames into an explicit reason instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from liveness.types import Face


@dataclass(frozen=True)
class QualityLimits:
    min_face_px: int = 60
    min_brightness: float = 40.0
    max_brightness: float = 235.0


def face_brightness(frame: np.ndarray, face: Face) -> float:
    """Mean grey level (0-255) inside the face box."""
    patch = frame[face.y : face.y + face.h, face.x : face.x + face.w]
    return float(cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY).mean()) if patch.size else 0.0


def frame_problem(frame: np.ndarray, faces: list[Face], limits: QualityLimits) -> str | None:
    """Why this frame cannot be judged ('no_face', 'several_faces', ...), or None if it can."""
    if not faces:
        return "no_face"
    if len(faces) > 1:
        return "several_faces"
    face = faces[0]
    if min(face.w, face.h) < limits.min_face_px:
        return "face_too_small"
    brightness = face_brightness(frame, face)
    if brightness < limits.min_brightness:
        return "too_dark"
    if brightness > limits.max_brightness:
        return "too_bright"
    return None


REASONS = {
    "no_face": "no face found",
    "several_faces": "several faces in view; only one person may be checked",
    "face_too_small": "face too small; come closer to the camera",
    "too_dark": "face too dark; add light",
    "too_bright": "face overexposed; avoid direct light",
}
