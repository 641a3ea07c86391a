"""Small result types shared by detectors, the engine and the front ends."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Face:
    """A detected face: an integer box `(x, y, w, h)` inside the frame and its confidence."""

    x: int
    y: int
    w: int
    h: int
    confidence: float

    def __post_init__(self) -> None:
        if self.w <= 0 or self.h <= 0:
            raise ValueError(f"expected a box with positive size, got w={self.w} h={self.h}")
        if self.x < 0 or self.y < 0:
            raise ValueError(f"expected a box inside the frame, got x={self.x} y={self.y}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"expected a confidence in [0, 1], got {self.confidence}")

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)

    @property
    def area(self) -> int:
        return self.w * self.h


@dataclass(frozen=True)
class Verdict:
    """The liveness result of one face: the probability that it is real, and its label."""

    face: Face
    score: float
    label: str

    def to_dict(self) -> dict[str, object]:
        return {
            "box": list(self.face.box),
            "detector_confidence": round(self.face.confidence, 4),
            "score": round(self.score, 6),
            "label": self.label,
        }
