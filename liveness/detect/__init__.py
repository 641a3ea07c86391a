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

# res10's boxes at a fraction of its cost (benchmarks/speed.py, benchmarks/detector_accuracy.py)
DEFAULT_DETECTOR = "res10-fast"


def create_detector(name: str = DEFAULT_DETECTOR, **options: object) -> FaceDetector:
    """Build a registered detector, e.g. `create_detector("res10", confidence=0.5)`."""
    return DETECTORS.create(name, **options)


def boxes_of(detector: object) -> str | None:
    """Whose boxes a detector gives (res10-fast gives res10's): what a model card's `detector`
    names, so a model can say when it meets faces cut another way."""
    return getattr(detector, "boxes", None) or getattr(detector, "name", None)


from liveness.detect import blazeface as _blazeface  # noqa: E402,F401  (registers "blazeface*")
from liveness.detect import res10 as _res10  # noqa: E402,F401  (registers "res10")
