"""An active challenge: a random sequence of moves, each to be done on cue, that a replay cannot follow.

A recorded video blinks and turns when its source did, not when asked. A check
draws 2-3 prompts (turn left, turn right, look up, blink; at least one head
turn, no prompt twice in a row) from the operating system's randomness, so a
client cannot predict them, and gives each `seconds_per_prompt` to be done. It
watches one tracked face: head pose (`liveness.decide.pose`) against the pose it
started from, and blinks (`liveness.decide.blink`). A prompt counts once the head is
back near where it started and then moves the asked way; moving another way
first, losing the face, a second face or a different face, or running out of
time fails the challenge, with the reason.

Directions are the person's own: "turn left" is their left (the nose moves to
the right of an unmirrored camera image).
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field

from liveness.decide.blink import BlinkCounter
from liveness.decide.pose import HeadPose
from liveness.detect.landmarks import EyeReading
from liveness.preprocess import iou

TURN_LEFT, TURN_RIGHT, LOOK_UP, BLINK = "turn_left", "turn_right", "look_up", "blink"
PROMPTS = (TURN_LEFT, TURN_RIGHT, LOOK_UP, BLINK)
TEXT = {
    TURN_LEFT: "turn your head to your left",
    TURN_RIGHT: "turn your head to your right",
    LOOK_UP: "look up",
    BLINK: "blink",
}
# failures a replay or a swapped face produces, against those a slow or shy person can: the first are
# attacks, the second "try again" (liveness.decide.fusion)
WRONG_MOVE, FACE_CHANGED, SECOND_FACE, TIMEOUT, FACE_LOST = (
    "wrong_move", "face_changed", "second_face", "timeout", "face_lost",
)  # fmt: skip
PASSED, FAILED = "passed", "failed"


@dataclass(frozen=True)
class ChallengeConfig:
    prompts: int | None = None  # 2 or 3; None: drawn at random too
    seconds_per_prompt: float = 3.0
    turn_deg: float = 18.0  # yaw away from the starting pose that counts as a turn
    up_deg: float = 12.0  # pitch above the starting pose that counts as looking up
    neutral_deg: float = 10.0  # within this of the start, the head is back and the next prompt counts
    lost_s: float = 0.6  # the face may be missing this long (a detector miss) before the check fails


def draw_prompts(count: int | None = None, rng: secrets.SystemRandom | None = None) -> tuple[str, ...]:
    """2-3 prompts with at least one head turn and no prompt twice in a row, from `rng`
    (default: the operating system's randomness, which a client cannot predict)."""
    rng = rng or secrets.SystemRandom()
    count = count or rng.choice((2, 3))
    while True:
        drawn = [rng.choice(PROMPTS) for _ in range(count)]
        turns = any(p in (TURN_LEFT, TURN_RIGHT) for p in drawn)
        if turns and all(a != b for a, b in itertools.pairwise(drawn)):
            return tuple(drawn)


@dataclass(frozen=True)
class Observation:
    """What one frame shows of the challenged face: how many faces, the face's box (for tracking),
    its head pose and eye reading (None where unreadable)."""

    faces: int
    box: tuple[int, int, int, int] | None = None
    pose: HeadPose | None = None
    eyes: EyeReading | None = None


@dataclass
class Challenge:
    """The state of one challenge; feed it every frame with `update`, read `status()`."""

    prompts: tuple[str, ...]
    config: ChallengeConfig = field(default_factory=ChallengeConfig)
    index: int = 0
    outcome: str | None = None
    failure: str | None = None
    reason: str = ""
    _start_pose: HeadPose | None = None
    _box: tuple[int, int, int, int] | None = None
    _prompt_started: float | None = None
    _last_seen: float | None = None
    _armed: bool = False  # the head is back near its starting pose: a move now counts
    _blinks: BlinkCounter = field(default_factory=BlinkCounter)
    _now: float = 0.0

    @classmethod
    def random(cls, config: ChallengeConfig | None = None) -> Challenge:
        config = config or ChallengeConfig()
        return cls(draw_prompts(config.prompts), config)

    @property
    def current(self) -> str | None:
        return self.prompts[self.index] if self.outcome is None and self.index < len(self.prompts) else None

    def update(self, t: float, seen: Observation) -> str | None:
        """Take one frame at `t` seconds; returns the outcome once there is one (passed / failed)."""
        if self.outcome is not None:
            return self.outcome
        self._now = t
        if self._prompt_started is None:
            self._prompt_started = self._last_seen = t
        if seen.faces > 1:
            return self._fail(SECOND_FACE, "a second face appeared")
        if (
            seen.faces == 1
            and seen.box is not None
            and self._box is not None
            and iou(seen.box, self._box) < 0.3
        ):
            return self._fail(FACE_CHANGED, "the face changed during the challenge")
        if seen.faces == 1 and seen.box is not None:
            self._box, self._last_seen = seen.box, t
        elif self._last_seen is not None and t - self._last_seen > self.config.lost_s:
            return self._fail(FACE_LOST, "the face was lost")
        if t - self._prompt_started > self.config.seconds_per_prompt:
            limit = self.config.seconds_per_prompt
            return self._fail(
                TIMEOUT, f"'{TEXT[self.prompts[self.index]]}' was not done within {limit:.0f} s"
            )
        blinked = self._blinks.update(t, seen.eyes)
        if seen.pose is not None:
            self._follow(seen.pose, t)
        if self.outcome is None and self.current == BLINK and blinked:
            self._advance(t)
        return self.outcome

    def _follow(self, pose: HeadPose, t: float) -> None:
        if self._start_pose is None:
            self._start_pose = pose
        yaw, pitch = pose.yaw - self._start_pose.yaw, pose.pitch - self._start_pose.pitch
        if abs(yaw) < self.config.neutral_deg and abs(pitch) < self.config.neutral_deg:
            self._armed = True
            return
        if not self._armed:
            return
        move = None
        if yaw > self.config.turn_deg:
            move = TURN_LEFT
        elif yaw < -self.config.turn_deg:
            move = TURN_RIGHT
        elif pitch > self.config.up_deg:
            move = LOOK_UP
        if move is None:
            return  # a small move, or looking down: neither asked for nor a sign of a replay
        if move == self.current:
            self._advance(t)
        else:
            self._fail(WRONG_MOVE, f"asked to {TEXT[self.current or BLINK]}, the face did: {TEXT[move]}")

    def _advance(self, t: float) -> None:
        self.index += 1
        self._armed = False
        self._prompt_started = t
        if self.index == len(self.prompts):
            self.outcome, self.reason = PASSED, f"followed {len(self.prompts)} prompts in order"

    def _fail(self, failure: str, reason: str) -> str:
        self.outcome, self.failure, self.reason = FAILED, failure, reason
        return FAILED

    def status(self) -> dict[str, object]:
        """What a client shows: the current prompt, progress and time left, or the outcome."""
        current = self.current
        started = self._prompt_started if self._prompt_started is not None else self._now
        left = max(0.0, self.config.seconds_per_prompt - (self._now - started))
        return {
            "prompt": current,
            "text": TEXT[current] if current else None,
            "done": self.index,
            "of": len(self.prompts),
            "seconds_left": round(left, 1) if current else None,
            "outcome": self.outcome,
            "failure": self.failure,
            "reason": self.reason or None,
        }
