"""Temporal smoothing: follow each face across frames and average its scores.

One frame of a replay can look real by chance; the same face over a second
rarely does. Faces are matched to the previous frame's tracks by box overlap,
and each track keeps the mean log-odds of its last `window` scores.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from liveness.decide.blink import BlinkCounter
from liveness.types import Face, Verdict

EPS = 1e-6


def iou(a: Face, b: Face) -> float:
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    return inter / (a.area + b.area - inter) if inter else 0.0


def logit(p: float) -> float:
    p = min(max(p, EPS), 1.0 - EPS)
    return math.log(p / (1.0 - p))


@dataclass
class Track:
    id: int
    face: Face
    logits: deque = field(default_factory=deque)
    blinks: BlinkCounter = field(default_factory=BlinkCounter)  # fed by whoever reads the eyes

    def score(self) -> float:
        mean = sum(self.logits) / len(self.logits)
        return 1.0 / (1.0 + math.exp(-mean))


class FaceTracker:
    """Assigns track ids to verdicts and returns their smoothed (video-level) scores."""

    def __init__(self, window: int = 30, min_iou: float = 0.3) -> None:
        self.window = window
        self.min_iou = min_iou
        self.tracks: list[Track] = []
        self._next_id = 0

    def update(self, verdicts: list[Verdict]) -> list[tuple[int, float]]:
        """(track id, smoothed real-probability) for each verdict, in order."""
        unmatched = list(self.tracks)
        result, kept = [], []
        for verdict in verdicts:
            track = max(unmatched, key=lambda t: iou(t.face, verdict.face), default=None)
            if track is None or iou(track.face, verdict.face) < self.min_iou:
                track = Track(self._next_id, verdict.face, deque(maxlen=self.window))
                self._next_id += 1
            else:
                unmatched.remove(track)
            track.face = verdict.face
            track.logits.append(logit(verdict.score))
            kept.append(track)
            result.append((track.id, track.score()))
        self.tracks = kept  # in the order of `verdicts`; a face missing for a frame starts a new track
        return result
