import pytest

from liveness.decide.window import ATTACK, LIVE, UNCERTAIN, Window, WindowConfig, image_decision


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _feed(window: Window, clock: Clock, frames: list, step: float = 0.25):
    final = None
    for problem, score in frames:
        final = window.add(problem, score)
        clock.now += step
        if final:
            return final
    return final


@pytest.mark.parametrize(
    "scores, expected",
    [
        ([0.9] * 10, LIVE),
        ([0.1] * 10, ATTACK),
        ([0.9, 0.1] * 5, UNCERTAIN),
    ],
)
def test_window_decides_after_two_seconds_of_faces(scores, expected):
    clock = Clock()
    window = Window(0.5, WindowConfig(seconds=2.0, min_frames=5), clock=clock)
    final = _feed(window, clock, [(None, s) for s in scores])
    assert final is not None and final["decision"] == expected
    assert final["frames"] == 9  # frames at t = 0, 0.25, ..., 2.0
    assert window.progress() == 1.0


def test_frames_without_a_face_do_not_count_and_time_out_with_the_reason():
    clock = Clock()
    window = Window(0.5, WindowConfig(seconds=2.0, min_frames=5, timeout_s=3.0), clock=clock)
    assert _feed(window, clock, [("no_face", None)] * 4) is None
    assert window.progress() == 0.0
    final = _feed(window, clock, [("several_faces", None)] * 12)
    assert final["decision"] == UNCERTAIN and "several faces" in final["reason"]


def test_image_decision():
    assert image_decision(None, 0.7, 0.5)[0] == LIVE
    assert image_decision(None, 0.2, 0.5)[0] == ATTACK
    assert image_decision("too_dark", None, 0.5) == (UNCERTAIN, "face too dark; add light")


def _blink_window(clock: Clock) -> Window:
    from liveness.decide.blink import BlinkCounter

    config = WindowConfig(seconds=2.0, min_frames=5, timeout_s=6.0)
    return Window(0.5, config, clock=clock, blinks=BlinkCounter(), require_blink=True)


def _eyes_feed(window: Window, clock: Clock, openness: list[float], score: float = 0.9, step: float = 0.1):
    from liveness.detect.landmarks import EyeReading

    for value in openness:
        final = window.add(None, score, EyeReading((value, value)))
        clock.now += step
        if final:
            return final
    return None


def test_a_live_decision_waits_for_a_blink():
    clock = Clock()
    window = _blink_window(clock)
    assert _eyes_feed(window, clock, [0.25] * 30) is None  # 3 s of live-looking frames, eyes open
    assert window.waiting_for_blink and window.progress() == 1.0
    final = _eyes_feed(window, clock, [0.05, 0.05, 0.25])
    assert final["decision"] == LIVE and final["blinks"] == 1 and "blinks seen: 1" in final["reason"]


def test_no_blink_before_the_timeout_is_uncertain_and_attacks_need_none():
    clock = Clock()
    final = _eyes_feed(_blink_window(clock), clock, [0.25] * 100)
    assert final["decision"] == UNCERTAIN and "no blink seen in 6 s" in final["reason"]
    clock = Clock()
    final = _eyes_feed(_blink_window(clock), clock, [0.25] * 100, score=0.1)
    assert final["decision"] == ATTACK and final["blinks"] == 0 and clock.now <= 2.2


def _decided(scores: list[float], threshold: float = 0.5) -> dict:
    """Frames 0.25 s apart through a window that decides on its 10th frame (2.25 s)."""
    from liveness.decide.window import Window, WindowConfig

    now = [0.0]
    window = Window(threshold, WindowConfig(seconds=2.25), clock=lambda: now[0])
    for score in scores:
        decided = window.add(None, score)
        now[0] += 0.25
        if decided is not None:
            return decided
    raise AssertionError("the window did not decide")


def test_seventy_percent_agreement_is_the_boundary():
    seven = _decided([0.9, 0.2] * 3 + [0.9] * 4)  # 7 of 10 real, mean above the threshold
    assert (seven["decision"], seven["reason"]) == ("live", "70% of 10 frames look real")
    six = _decided([0.9, 0.2] * 4 + [0.9] * 2)  # 6 of 10: the mean says live, the frames disagree
    assert (six["decision"], six["reason"]) == ("uncertain", "frames disagree (60% look real); try again")
    attack = _decided([0.1, 0.9] * 3 + [0.1] * 4)  # 7 of 10 attacks
    assert (attack["decision"], attack["reason"]) == ("attack", "70% of 10 frames look like an attack")
