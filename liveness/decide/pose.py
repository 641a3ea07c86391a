"""Head pose (yaw, pitch, roll in degrees) from the face mesh the blink reader already runs.

Six mesh landmarks (nose tip, chin, the outer eye corners, the mouth corners)
are fitted to the same six points of a generic adult head with `cv2.solvePnP`,
for a camera whose focal length is the frame's width (a typical webcam's field
of view, about 53 degrees) and no lens distortion. The fit's absolute angles are
approximate (a generic head, a guessed focal length); what the challenge needs
is their sign and a scale good to some degrees, which `tests/test_pose.py`
checks on synthetic heads turned by known angles and on the shared clips.

Signs, as the person in front of the camera sees them: yaw > 0 when they turn
their head to their own left (in an unmirrored camera image the nose moves to
the image's right), pitch > 0 when they look up, roll > 0 when the head tilts
towards their own right shoulder.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# mesh indices: nose tip, chin, outer corner of the eye on the image's left (the person's right),
# outer corner on the image's right, mouth corner image-left, mouth corner image-right
MESH_POINTS = (1, 152, 33, 263, 61, 291)
# the same points on a generic head, millimetres, x to the image's right, y up, z towards the camera
HEAD_MODEL = np.array(
    [
        (0.0, 0.0, 0.0),
        (0.0, -63.6, -12.5),
        (-43.3, 32.7, -26.0),
        (43.3, 32.7, -26.0),
        (-28.9, -28.9, -24.1),
        (28.9, -28.9, -24.1),
    ],
    dtype=np.float64,
)


@dataclass(frozen=True)
class HeadPose:
    yaw: float  # degrees; > 0: turned to the person's own left
    pitch: float  # degrees; > 0: looking up
    roll: float  # degrees; > 0: tilted towards the person's own right shoulder

    def to_dict(self) -> dict[str, float]:
        return {"yaw": round(self.yaw, 1), "pitch": round(self.pitch, 1), "roll": round(self.roll, 1)}


def camera_matrix(width: int, height: int) -> np.ndarray:
    return np.array([[width, 0.0, width / 2], [0.0, width, height / 2], [0.0, 0.0, 1.0]])


def head_pose(points: np.ndarray, width: int, height: int) -> HeadPose | None:
    """The pose of a head whose mesh landmarks (468, 2 frame pixels) are `points`; None if the fit fails."""
    image_points = np.asarray(points, dtype=np.float64)[list(MESH_POINTS)]
    camera = camera_matrix(width, height)
    # start from a frontal head at the distance its eye corners imply: the iterative fit from an
    # arbitrary start often lands on the mirror solution (a head facing away, rolled 180 degrees)
    eye_px = float(np.linalg.norm(image_points[3] - image_points[2]))
    if eye_px < 1.0:
        return None
    depth = camera[0, 0] * (HEAD_MODEL[3, 0] - HEAD_MODEL[2, 0]) / eye_px
    nose = (image_points[0] - camera[:2, 2]) * depth / camera[0, 0]
    rvec, tvec = np.zeros((3, 1)), np.array([[nose[0]], [nose[1]], [depth]])
    ok, rvec, _ = cv2.solvePnP(
        HEAD_MODEL * (1, -1, -1),  # to OpenCV's camera axes: y down, z away from the camera
        image_points,
        camera,
        None,
        rvec,
        tvec,
        useExtrinsicGuess=True,
        flags=cv2.SOLVEPNP_ITERATIVE,
    )
    if not ok:
        return None
    return _angles(cv2.Rodrigues(rvec)[0])


def _angles(rotation: np.ndarray) -> HeadPose:
    """Yaw, pitch and roll of the head's rotation in camera axes (x right, y down, z forward).

    The head's own axes are the matrix's columns: where its "right" (x) and "up" (-y)
    point decides yaw and roll, where its face direction (-z) points decides pitch.
    """
    forward = -rotation[:, 2]  # the face's normal, towards the camera when frontal: (0, 0, -1)
    yaw = np.degrees(np.arctan2(forward[0], -forward[2]))  # nose towards image right: the person's left
    pitch = np.degrees(np.arctan2(-forward[1], np.hypot(forward[0], forward[2])))  # up in the image
    right = rotation[:, 0]
    roll = np.degrees(np.arctan2(-right[1], right[0]))
    return HeadPose(float(yaw), float(pitch), float(roll))


def project_head(yaw: float, pitch: float, width: int = 640, height: int = 480, distance: float = 500.0):
    """The six model points of a head turned by (yaw, pitch) degrees, seen by `camera_matrix`: a
    synthetic mesh for tests (the other 462 points are zeros)."""
    y, p = np.radians(yaw), np.radians(pitch)
    turn = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])  # about the up axis
    nod = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])  # nose up for p > 0
    head = HEAD_MODEL @ (nod @ turn).T  # head axes: x right, y up, z towards the camera
    camera = head * (1, -1, -1) + (0, 0, distance)
    pixels = camera @ camera_matrix(width, height).T
    points = np.zeros((468, 2))
    points[list(MESH_POINTS)] = pixels[:, :2] / pixels[:, 2:]
    return points
