"""The active challenge and the fusion rule on scripted pose and blink sequences."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from liveness.decide.challenge import (
    BLINK,
    FACE_CHANGED,
    FACE_LOST,
    LOOK_UP,
    SECOND_FACE,
    TIMEOUT,
    TURN_LEFT,
    TURN_RIGHT,
    WRONG_MOVE,
    Challenge,
    Observation,
    draw_prompts,
)
from liveness.decide.fusion import fuse
from liveness.decide.pose import HeadPose
from liveness.detect.landmarks import EyeReading

BOX = (100, 80, 200, 200)
OPEN, SHUT = EyeReading((0.25, 0.25)), EyeReading((0.05, 0.05))
FPS = 15


def _frames(moves, start: float = 0.0, box=BOX, faces: int = 1):
    """(t, Observation) at 15 fps for each (seconds, yaw, pitch[, eyes]) segment, yaw and pitch ramped
    linearly from the previous segment's end."""
    t, yaw, pitch = start, 0.0, 0.0
    for seconds, to_yaw, to_pitch, *eyes in moves:
        n = max(1, round(seconds * FPS))
        for i in range(1, n + 1):
            y, p = yaw + (to_yaw - yaw) * i / n, pitch + (to_pitch - pitch) * i / n
            reading = eyes[0][i - 1] if eyes else OPEN
            yield t, Observation(faces, box, HeadPose(y, p, 0.0), reading)
            t += 1 / FPS
        yaw, pitch = to_yaw, to_pitch


def _run(prompts, moves, **kw) -> Challenge:
    challenge = Challenge(tuple(prompts))
    for t, seen in _frames(moves, **kw):
        if challenge.update(t, seen):
            break
    return challenge


BLINK_EYES = [OPEN] * 3 + [SHUT] * 2 + [OPEN] * 4  # a blink in 0.6 s at 15 fps


def test_following_every_prompt_in_order_passes():
    moves = [(0.5, 0, 0), (0.8, 30, 0), (0.6, 0, 0), (0.8, 0, 20), (0.6, 0, 0), (0.6, 0, 0, BLINK_EYES)]
    done = _run([TURN_LEFT, LOOK_UP, BLINK], moves)
    assert done.outcome == "passed" and done.index == 3 and "3 prompts" in done.reason


def test_the_wrong_direction_fails_as_a_wrong_move():
    done = _run([TURN_LEFT, TURN_RIGHT], [(0.5, 0, 0), (0.8, -30, 0)])
    assert (done.outcome, done.failure) == ("failed", WRONG_MOVE) and "your left" in done.reason


def test_the_right_moves_in_the_wrong_order_fail():
    done = _run([TURN_RIGHT, LOOK_UP], [(0.5, 0, 0), (0.8, 0, 20), (0.5, 0, 0), (0.8, -30, 0)])
    assert done.failure == WRONG_MOVE and done.index == 0


def test_holding_the_turn_does_not_count_for_the_next_prompt():
    """After a turn the head must come back before another move counts: staying turned left is
    neither a second 'turn left' nor a wrong move, it is a timeout."""
    done = _run([TURN_LEFT, TURN_RIGHT, TURN_LEFT], [(0.5, 0, 0), (0.8, 30, 0), (4.0, 30, 0)])
    assert done.index == 1 and done.failure == TIMEOUT


def test_a_still_face_times_out():
    done = _run([TURN_LEFT, BLINK], [(4.0, 0, 0)])
    assert done.failure == TIMEOUT and "within 3 s" in done.reason and done.index == 0


def test_a_face_that_swaps_mid_challenge_fails():
    challenge = Challenge((TURN_LEFT, TURN_RIGHT))
    for t, seen in _frames([(0.5, 0, 0), (0.8, 30, 0), (0.3, 0, 0)]):
        challenge.update(t, seen)
    assert challenge.index == 1 and challenge.outcome is None
    other = Observation(1, (400, 80, 200, 200), HeadPose(0, 0, 0), OPEN)  # another person took its place
    assert challenge.update(2.0, other) == "failed" and challenge.failure == FACE_CHANGED


def test_a_second_face_and_a_lost_face_fail():
    second = Challenge((TURN_LEFT, BLINK))
    second.update(0.0, Observation(1, BOX, HeadPose(0, 0, 0), OPEN))
    assert second.update(0.1, Observation(2, BOX)) == "failed" and second.failure == SECOND_FACE
    lost = Challenge((TURN_LEFT, BLINK))
    lost.update(0.0, Observation(1, BOX, HeadPose(0, 0, 0), OPEN))
    assert lost.update(0.4, Observation(0)) is None  # a detector miss is forgiven
    assert lost.update(0.8, Observation(0)) == "failed" and lost.failure == FACE_LOST


def test_prompts_are_random_with_a_turn_and_no_repeats():
    rng = random.Random(7)  # the server draws from secrets.SystemRandom; a seeded one tests the rule
    drawn = [draw_prompts(rng=rng) for _ in range(2000)]
    assert all(any(p in (TURN_LEFT, TURN_RIGHT) for p in d) for d in drawn)
    assert all(a != b for d in drawn for a, b in itertools.pairwise(d))
    assert {len(d) for d in drawn} == {2, 3}
    firsts = Counter(d[0] for d in drawn)
    assert set(firsts) == {TURN_LEFT, TURN_RIGHT, LOOK_UP, BLINK} and min(firsts.values()) > 200
    assert len(set(drawn)) > 20
    assert len({draw_prompts() for _ in range(50)}) > 5  # the operating system's source, as the server draws


@pytest.mark.parametrize(
    ("passive", "outcome", "failure", "expected"),
    [
        ("live", "passed", None, "live"),
        ("live", None, None, None),  # waits for the challenge
        ("live", "failed", WRONG_MOVE, "attack"),
        ("live", "failed", TIMEOUT, "uncertain"),
        ("attack", None, None, "attack"),
        ("uncertain", "passed", None, "uncertain"),
        (None, "failed", FACE_CHANGED, "attack"),
        (None, "passed", None, None),  # waits for the passive window
    ],
)
def test_the_fusion_rule(passive, outcome, failure, expected):
    window = None if passive is None else {"decision": passive, "reason": "r", "frames": 30, "score": 0.9}
    status = {"outcome": outcome, "failure": failure, "reason": "because"}
    fused = fuse(window, status)
    assert (fused or {}).get("decision") == expected
    if passive:
        assert fuse(window, None)["decision"] == passive  # no challenge: the window alone
