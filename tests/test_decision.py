import pytest

from liveness.web.decision import ATTACK, LIVE, UNCERTAIN, Window, WindowConfig, image_decision


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
