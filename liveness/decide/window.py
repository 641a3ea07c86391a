"""Decisions for one image, or a short window of frames: the rule the web app, `check` and the API share.

The server keeps nothing between requests; a stream's window lives only as
long as its WebSocket connection, so workers scale out behind any balancer.
A window can also count the face's blinks, and hold a 'live' decision back
until it has seen one (a photo never blinks).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from liveness.decide.blink import BlinkCounter
from liveness.decide.quality import REASONS
from liveness.detect.landmarks import EyeReading

LIVE, ATTACK, UNCERTAIN = "live", "attack", "uncertain"


@dataclass(frozen=True)
class WindowConfig:
    seconds: float = 2.0
    min_frames: int = 5
    agreement: float = 0.7
    timeout_s: float = 12.0


def image_decision(problem: str | None, score: float | None, threshold: float) -> tuple[str, str]:
    """(decision, reason) for one image."""
    if problem is not None or score is None:
        key = problem or "no_face"
        return UNCERTAIN, REASONS[key]
    if score >= threshold:
        return LIVE, f"real-probability {score:.3f} >= threshold {threshold:.3f}"
    return ATTACK, f"real-probability {score:.3f} < threshold {threshold:.3f}"


@dataclass
class Window:
    """Frames of one check: a decision once `seconds` of judgeable frames are in."""

    threshold: float
    config: WindowConfig = field(default_factory=WindowConfig)
    clock: object = time.monotonic
    scores: list[float] = field(default_factory=list)
    problems: Counter = field(default_factory=Counter)
    started: float | None = None
    first_good: float | None = None
    last: float | None = None
    blinks: BlinkCounter | None = None  # set to count the face's blinks
    require_blink: bool = False  # 'live' only once a blink was seen
    waiting_for_blink: bool = False

    def add(
        self, problem: str | None, score: float | None, eyes: EyeReading | None = None
    ) -> dict[str, object] | None:
        """Add one frame (with its face's eye reading when blinks are counted); returns the
        final decision once there is one."""
        now = self.last = self.clock()  # type: ignore[operator]
        self.started = self.started if self.started is not None else now
        if problem is not None or score is None:
            self.problems[problem or "no_face"] += 1
            eyes = None
        else:
            self.first_good = self.first_good if self.first_good is not None else now
            self.scores.append(score)
        if self.blinks is not None:
            self.blinks.update(now, eyes)
        timed_out = now - self.started >= self.config.timeout_s
        if (
            self.first_good is not None
            and len(self.scores) >= self.config.min_frames
            and (now - self.first_good >= self.config.seconds)
        ):
            return self._blink_gate(self._decide(), timed_out)
        if timed_out:
            return self._no_judgeable_frames()
        return None

    def finish(self) -> dict[str, object]:
        """The decision when the frames run out first (the end of a recorded clip)."""
        if self.first_good is None:
            return self._no_judgeable_frames()
        if self.waiting_for_blink:
            return self._blink_gate(self._decide(), timed_out=True)  # type: ignore[return-value]
        seconds = (self.last or 0.0) - self.first_good
        reason = (
            f"too short: {seconds:.1f} s and {len(self.scores)} judgeable frames, "
            f"need {self.config.seconds:.0f} s and {self.config.min_frames}"
        )
        return {"decision": UNCERTAIN, "reason": reason, "frames": len(self.scores), "score": None}

    def _no_judgeable_frames(self) -> dict[str, object]:
        key = self.problems.most_common(1)[0][0] if self.problems else "no_face"
        return {"decision": UNCERTAIN, "reason": REASONS[key], "frames": len(self.scores), "score": None}

    def _blink_gate(self, decided: dict[str, object], timed_out: bool) -> dict[str, object] | None:
        """With `require_blink`, hold a 'live' decision back until a blink (None while waiting),
        and make it 'uncertain' if the check times out first."""
        blinked = self.blinks is not None and self.blinks.count > 0
        self.waiting_for_blink = self.require_blink and decided["decision"] == LIVE and not blinked
        if not self.waiting_for_blink:
            return decided
        if not timed_out:
            return None
        seconds = (self.last or 0.0) - (self.started or 0.0)
        reason = f"no blink seen in {seconds:.0f} s (a live person blinks every few seconds); try again"
        return {**decided, "decision": UNCERTAIN, "reason": reason}

    def progress(self) -> float:
        """Share of the window filled as of the last frame (1.0 exactly when a decision was due)."""
        if self.first_good is None or self.last is None:
            return 0.0
        elapsed = self.last - self.first_good
        return float(min(1.0, elapsed / self.config.seconds, len(self.scores) / self.config.min_frames))

    def _decide(self) -> dict[str, object]:
        scores = np.array(self.scores)
        mean = float(scores.mean())
        real_share = float((scores >= self.threshold).mean())
        if mean >= self.threshold and real_share >= self.config.agreement:
            decision, reason = LIVE, f"{real_share:.0%} of {len(scores)} frames look real"
        elif mean < self.threshold and 1 - real_share >= self.config.agreement:
            decision, reason = ATTACK, f"{1 - real_share:.0%} of {len(scores)} frames look like an attack"
        else:
            decision, reason = UNCERTAIN, f"frames disagree ({real_share:.0%} look real); try again"
        result: dict[str, object] = {
            "decision": decision,
            "reason": reason,
            "frames": len(scores),
            "score": round(mean, 4),
        }
        if self.blinks is not None:
            result["blinks"] = self.blinks.count
            result["reason"] = f"{reason}; blinks seen: {self.blinks.count}"
        return result
