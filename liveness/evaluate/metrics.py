"""Presentation attack detection error rates (ISO/IEC 30107-3).

Conventions used throughout: a score is the probability that the face is
bona fide ("real"); a sample is accepted as real when `score >= threshold`.
APCER is the share of attacks accepted, BPCER the share of bona fide
presentations rejected.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def _as_arrays(is_real: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    is_real = np.asarray(is_real, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    if is_real.shape != scores.shape:
        raise ValueError(f"expected labels and scores of one length, got {is_real.shape} and {scores.shape}")
    return is_real, scores


def apcer(attack_scores: np.ndarray, threshold: float) -> float | None:
    """Share of attack presentations accepted as real; None without attacks."""
    attack_scores = np.asarray(attack_scores, dtype=np.float64)
    return float(np.mean(attack_scores >= threshold)) if attack_scores.size else None


def bpcer(real_scores: np.ndarray, threshold: float) -> float | None:
    """Share of bona fide presentations rejected; None without bona fide samples."""
    real_scores = np.asarray(real_scores, dtype=np.float64)
    return float(np.mean(real_scores < threshold)) if real_scores.size else None


def eer(is_real: np.ndarray, scores: np.ndarray) -> tuple[float, float] | None:
    """(equal error rate, its threshold); None unless both classes are present.

    The EER point is where APCER and BPCER are closest; their mean there is
    the EER. Every threshold in an interval gives that same point, so we
    return the interval's middle: on a separable set, halfway between the
    highest attack score and the lowest bona fide score, not at either edge.
    """
    is_real, scores = _as_arrays(is_real, scores)
    if is_real.all() or not is_real.any():
        return None
    fpr, tpr, thresholds = roc_curve(is_real, scores, drop_intermediate=False)
    fnr = 1.0 - tpr
    gap = np.abs(fpr - fnr)
    best = np.flatnonzero(gap == gap.min())
    first, last = int(best[0]), int(best[-1])
    upper = min(float(thresholds[first]), float(np.nextafter(scores.max(), np.inf)))
    lower = float(thresholds[last + 1]) if last + 1 < len(thresholds) else float(scores.min())
    rate = float((fpr[first] + fnr[first]) / 2.0)
    return rate, (upper + lower) / 2.0 if lower < upper else upper


def auc(is_real: np.ndarray, scores: np.ndarray) -> float | None:
    is_real, scores = _as_arrays(is_real, scores)
    if is_real.all() or not is_real.any():
        return None
    return float(roc_auc_score(is_real, scores))


def _operating_points(is_real: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(APCER, BPCER) at every distinct threshold, from strictest to most lenient."""
    fpr, tpr, _ = roc_curve(is_real, scores, drop_intermediate=False)
    return fpr, 1.0 - tpr


def bpcer_at_apcer(is_real: np.ndarray, scores: np.ndarray, max_apcer: float) -> float | None:
    """Lowest BPCER with APCER <= `max_apcer` (BPCER20 is `max_apcer=0.05`)."""
    is_real, scores = _as_arrays(is_real, scores)
    if is_real.all() or not is_real.any():
        return None
    apcers, bpcers = _operating_points(is_real, scores)
    return float(bpcers[apcers <= max_apcer + 1e-12].min())


def apcer_at_bpcer(is_real: np.ndarray, scores: np.ndarray, max_bpcer: float) -> float | None:
    """Lowest APCER with BPCER <= `max_bpcer`."""
    is_real, scores = _as_arrays(is_real, scores)
    if is_real.all() or not is_real.any():
        return None
    apcers, bpcers = _operating_points(is_real, scores)
    return float(apcers[bpcers <= max_bpcer + 1e-12].min())
