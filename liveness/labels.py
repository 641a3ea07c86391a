"""The one label vocabulary: which words mean a live face and which an attack.

Gather, train, evaluate and the YOLO reader all read labels through `canonical`, so a
manifest that says "bonafide" trains exactly as it evaluates. Inside the project a face
is labelled REAL or ATTACK; the other words are accepted spellings.
"""

from __future__ import annotations

REAL = "real"
ATTACK = "spoof"
# the first of each is the project's own word; the rest are accepted as meaning the same
REAL_NAMES = ("real", "live", "bonafide", "bona fide", "bona-fide", "genuine")
ATTACK_NAMES = ("spoof", "fake", "attack", "print", "replay", "mask")


def canonical(label: str) -> str | None:
    """REAL or ATTACK for any accepted spelling (any case, surrounding space); None otherwise."""
    key = label.strip().lower()
    if key in REAL_NAMES:
        return REAL
    if key in ATTACK_NAMES:
        return ATTACK
    return None
