"""Eye blinks: a cue that a printed photo or a still image on a screen cannot give.

A blink is a sudden dip of openness (read by `liveness.detect.landmarks`) below
`closed` times the face's own level just before it (so narrow and wide eyes alike
work) that comes back above `reopened` times that level within `longest` seconds;
a slow narrowing or a longer dip is a look downwards, not a blink. Replayed videos
blink too: a blink says "not a still image", nothing more, so it complements the
network rather than replacing it.
"""

from __future__ import annotations

from collections import deque

from liveness.detect.landmarks import EyeReading


class BlinkCounter:
    """Counts the blinks in one face's stream of eye readings.

    A dip starts when openness falls below `closed` times the widest reading of
    the previous `onset` seconds: eyelids shut within a tenth of a second or two,
    while a slow narrowing (a look downwards, a head tilt) never drops that far
    that fast. It is a blink when openness is back above `reopened` times that
    reference within `longest` seconds. A missing reading (face lost or too
    small) cancels a dip in progress.
    """

    def __init__(
        self, closed: float = 0.55, reopened: float = 0.8, longest: float = 0.5, onset: float = 0.25
    ) -> None:
        if not 0.0 < closed < reopened <= 1.0:
            raise ValueError(f"expected 0 < closed < reopened <= 1, got {closed} and {reopened}")
        self.closed, self.reopened, self.longest, self.onset = closed, reopened, longest, onset
        self.count = 0
        self.last_blink: float | None = None
        self._recent: deque[tuple[float, float]] = deque()
        self._dip: tuple[float, float] | None = None  # (start time, the open level before it)

    def update(self, t: float, reading: EyeReading | None) -> bool:
        """Feed the reading taken at `t` seconds; True when it completes a blink."""
        if reading is None:
            self._dip = None
            self._recent.clear()
            return False
        openness = reading.openness
        before = max((o for _, o in self._recent), default=None)
        self._recent.append((t, openness))
        while self._recent[0][0] < t - self.onset:
            self._recent.popleft()
        if self._dip is None:
            if before is not None and openness < self.closed * before:
                self._dip = (t, before)
            return False
        started, level = self._dip
        if openness < self.reopened * level:
            return False
        self._dip = None
        if t - started > self.longest:
            return False
        self.count += 1
        self.last_blink = t
        return True
