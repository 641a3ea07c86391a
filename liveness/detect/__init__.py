"""Face detectors behind one interface, chosen by name.

A detector takes a BGR frame and returns the faces in it, most confident
first, as `Face` boxes clipped to the frame. No face is an empty list.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from liveness.registry import Registry
from liveness.types import Face


class FaceDetector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in a BGR image, most confident first."""
        ...


DETECTORS: Registry[FaceDetector] = Registry("face detector")


def create_detector(name: str = "res10", **options: object) -> FaceDetector:
    """Build a registered detector, e.g. `create_detector("res10", confidence=0.5)`."""
    return DETECTORS.create(name, **options)


from liveness.detect import blazeface as _blazeface  # noqa: E402,F401  (registers "blazeface*")
from liveness.detect import res10 as _res10  # noqa: E402,F401  (registers "res10")
