import pytest

from liveness.decide.tracking import FaceTracker, logit
from liveness.types import Face, Verdict


def v(x: int, score: float) -> Verdict:
    return Verdict(Face(x, 10, 50, 50, 0.9), score, "real" if score >= 0.5 else "spoof")


def test_tracks_follow_moving_faces_and_average_log_odds():
    tracker = FaceTracker(window=3)
    assert tracker.update([v(0, 0.9)]) == [(0, pytest.approx(0.9))]
    ((tid, smooth),) = tracker.update([v(5, 0.1)])
    assert tid == 0 and smooth == pytest.approx(0.5)  # mean log-odds of 0.9 and 0.1
    tracker.update([v(8, 0.9)])
    ((_, smooth),) = tracker.update([v(10, 0.9)])  # window 3: 0.1, 0.9, 0.9
    assert smooth == pytest.approx(1 / (1 + 2.718281828 ** -(logit(0.9) / 3)), rel=1e-4)


def test_two_faces_get_two_tracks_and_a_lost_face_a_new_one():
    tracker = FaceTracker()
    ids = [t for t, _ in tracker.update([v(0, 0.9), v(200, 0.2)])]
    assert ids == [0, 1]
    assert [t for t, _ in tracker.update([v(202, 0.2), v(3, 0.9)])] == [1, 0]
    tracker.update([])
    assert tracker.update([v(0, 0.9)])[0][0] == 2
