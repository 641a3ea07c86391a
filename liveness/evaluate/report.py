"""One report of ISO/IEC 30107-3 error rates from scores, at frame or video level.

Metrics that cannot be computed (no attacks, one class, a declared attack
species with no samples) are `None` in the report, with the reason in
`notes`, never a made-up number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from liveness.evaluate.metrics import apcer, apcer_at_bpcer, auc, bpcer, bpcer_at_apcer, eer

REPORT_KEYS = (
    "n_real", "n_attack", "apcer_per_pais", "apcer", "bpcer", "acer", "hter", "eer", "eer_threshold",
    "auc", "bpcer_at_apcer_1pct", "bpcer_at_apcer_5pct", "apcer_at_bpcer_1pct", "apcer_at_bpcer_5pct",
    "threshold", "failures_to_detect",
)  # fmt: skip


def pad_metrics(
    is_real: np.ndarray,
    scores: np.ndarray,
    attacks: Sequence[str],
    threshold: float,
    failures_to_detect: int = 0,
    declared_species: Sequence[str] = (),
) -> dict[str, Any]:
    """Every metric of the report for scored samples (`attacks[i]` is the PAI species of attack i)."""
    is_real = np.asarray(is_real, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    notes: dict[str, str] = {}
    species = _species_apcer(scores, is_real, list(attacks), threshold, declared_species, notes)
    known = [v for v in species.values() if v is not None]
    worst = max(known) if known else None
    pooled = apcer(scores[~is_real], threshold)
    rejected = bpcer(scores[is_real], threshold)
    found = eer(is_real, scores)
    report: dict[str, Any] = {
        "n_real": int(is_real.sum()),
        "n_attack": int((~is_real).sum()),
        "apcer_per_pais": species,
        "apcer": worst,
        "apcer_pooled": pooled,
        "bpcer": rejected,
        "acer": _mean(worst, rejected),
        "hter": _mean(pooled, rejected),
        "eer": found[0] if found else None,
        "eer_threshold": found[1] if found else None,
        "auc": auc(is_real, scores),
        "bpcer_at_apcer_1pct": bpcer_at_apcer(is_real, scores, 0.01),
        "bpcer_at_apcer_5pct": bpcer_at_apcer(is_real, scores, 0.05),
        "apcer_at_bpcer_1pct": apcer_at_bpcer(is_real, scores, 0.01),
        "apcer_at_bpcer_5pct": apcer_at_bpcer(is_real, scores, 0.05),
        "threshold": float(threshold),
        "failures_to_detect": int(failures_to_detect),
    }
    _explain_missing(report, notes)
    report["notes"] = notes
    return report


def _species_apcer(
    scores: np.ndarray,
    is_real: np.ndarray,
    attacks: list[str],
    threshold: float,
    declared: Sequence[str],
    notes: dict[str, str],
) -> dict[str, float | None]:
    names = sorted({attacks[i] for i in np.flatnonzero(~is_real)} | set(declared))
    result: dict[str, float | None] = {}
    for name in names:
        picked = np.array([not r and a == name for r, a in zip(is_real, attacks, strict=True)], dtype=bool)
        result[name] = apcer(scores[picked], threshold)
        if result[name] is None:
            notes[f"apcer_per_pais.{name}"] = "declared attack species with no scored samples"
    return result


def _mean(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else (a + b) / 2.0


def _explain_missing(report: dict[str, Any], notes: dict[str, str]) -> None:
    if report["n_real"] == 0:
        reason = "no bona fide (real) samples were scored"
    elif report["n_attack"] == 0:
        reason = "no attack samples were scored"
    else:
        return
    for key in REPORT_KEYS:
        if report.get(key) is None:
            notes[key] = reason
