"""The one rule that turns the passive score, blinks, the challenge and the quality gates into a decision.

    1. A challenge failed by a wrong move, a different face or a second face: attack
       (a replay moves when its source did, not when asked).
    2. A challenge failed by running out of time or losing the face: uncertain, try again.
    3. Otherwise the passive window decides (liveness.decide.window: ~2 s of frames with one
       usable face whose scores agree; with blinks required, a blink first): attack and
       uncertain stand as they are.
    4. Live needs the passive window's live and, when a challenge runs, every prompt
       followed in order; until the challenge ends the decision waits.

The web app's stream and `liveness demo --challenge` use it; a photo or a recorded
clip (`liveness check`, the API) has no challenge, so rule 3 alone applies there.
"""

from __future__ import annotations

from typing import Any

from liveness.decide.challenge import FACE_LOST, FAILED, PASSED, TIMEOUT
from liveness.decide.window import ATTACK, LIVE, UNCERTAIN

RETRYABLE = (TIMEOUT, FACE_LOST)


def fuse(passive: dict[str, Any] | None, challenge: dict[str, Any] | None) -> dict[str, Any] | None:
    """The final decision from the passive window's (None while it waits) and the challenge's
    status (None without a challenge); None while either still waits for the other."""
    if challenge is not None and challenge["outcome"] == FAILED:
        decision = UNCERTAIN if challenge["failure"] in RETRYABLE else ATTACK
        base = passive or {"frames": 0, "score": None}
        return {**base, "decision": decision, "reason": f"challenge failed: {challenge['reason']}",
                "challenge": challenge}  # fmt: skip
    if passive is None:
        return None
    if passive["decision"] != LIVE or challenge is None:
        return passive if challenge is None else {**passive, "challenge": challenge}
    if challenge["outcome"] != PASSED:
        return None
    return {
        **passive,
        "reason": f"{passive['reason']}; challenge: {challenge['reason']}",
        "challenge": challenge,
    }
