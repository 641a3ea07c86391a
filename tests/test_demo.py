"""The demo's challenge decides as the web page does: gates, window, blink, fusion."""

from __future__ import annotations

import numpy as np

from liveness.checker import FrameChecker
from liveness.decide.challenge import LOOK_UP, TURN_LEFT, Challenge
from liveness.demo import NO_BLINK, DemoChallenge, FaceView
from liveness.engine import LivenessEngine
from liveness.types import Face, Verdict
from tests.test_challenge import BOX, _frames

ENGINE = LivenessEngine.load(detector=None)  # the shipped model; only its threshold (0.54) matters here
GREY = np.full((480, 640, 3), 128, np.uint8)  # a face box of mid-grey passes the brightness gates
FOLLOWED = [(0.5, 0, 0), (0.8, 30, 0), (0.6, 0, 0), (0.8, 0, 20), (0.6, 0, 0), (9.0, 0, 0)]  # 12.3 s


def _decisions(require_blink: bool, score: float = 0.9, image: np.ndarray = GREY) -> list[dict]:
    """A face that follows a turn-left, look-up challenge, never blinking, scored `score`."""
    demo = DemoChallenge(FrameChecker(ENGINE), require_blink=require_blink)
    demo.check.challenge = Challenge((TURN_LEFT, LOOK_UP))
    real = score >= ENGINE.threshold
    label = NO_BLINK if require_blink else ("real" if real else "spoof")
    for t, seen in _frames(FOLLOWED):
        verdict = Verdict(Face(*BOX, 0.99), score, "real" if real else "spoof")
        view = FaceView(verdict, score, label, track=0, openness=0.3, pose=seen.pose)
        status, decided = demo.update(t, image, [view])
        assert status is not None
        if decided is not None:
            return [decided]
    return demo.decisions


def test_a_live_face_that_followed_every_prompt_but_never_blinked_is_uncertain_not_attack():
    decided = _decisions(require_blink=True)
    assert [d["decision"] for d in decided] == ["uncertain"]
    assert "no blink seen in 12 s" in decided[0]["reason"]


def test_a_live_face_that_followed_every_prompt_is_live_and_an_attack_score_is_attack():
    assert [d["decision"] for d in _decisions(require_blink=False)] == ["live"]
    assert [d["decision"] for d in _decisions(require_blink=False, score=0.1)] == ["attack"]


def test_the_demo_challenge_applies_the_page_quality_gates():
    dark = np.full((480, 640, 3), 10, np.uint8)
    decided = _decisions(require_blink=False, image=dark)  # its score never counts: it times out
    assert [(d["decision"], d["reason"]) for d in decided] == [("uncertain", "face too dark; add light")]
