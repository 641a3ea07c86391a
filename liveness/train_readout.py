"""Fit the read-out of a network whose backbone is frozen ImageNet features (`--arch efficientnet-lite0`).

The backbone never changes, so its features are computed once per face and the read-out,
a logistic regression on standardised features, is fitted in seconds. That makes the
threshold rule of the colour-texture model affordable here too: out-of-fold scores of
folds of whole groups, and the median of the sources' EER points on them (what a typical
new camera needs). The fitted standardisation and weights are folded into the model's
last Dense layer, so the saved `.keras` / `.tflite` is an ordinary network.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

READOUT_C = 0.05  # inverse L2 strength; fixed before the yardstick ran (research/prior_yardstick.py)


def source_weights(sources: list[str], is_real: np.ndarray) -> np.ndarray:
    """Each source's live and attack faces weigh the same in total, so the largest collection
    does not set the decision on its own; the weights average to 1."""
    keys = [f"{s}/{r}" for s, r in zip(sources, is_real, strict=True)]
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[inverse]
    return weights * len(keys) / weights.sum()


class ReadOut:
    """Standardisation and a logistic regression; `soft` targets mix label and teacher."""

    def __init__(self, features: np.ndarray, soft: np.ndarray, weights: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        self.mean = features.mean(axis=0)
        self.scale = features.std(axis=0)
        self.scale[self.scale < 1e-6] = 1.0
        z = (features - self.mean) / self.scale
        # a soft target t is the pair (real, weight t) + (attack, weight 1 - t): the same log loss
        twice = np.concatenate([z, z])
        labels = np.concatenate([np.ones(len(z)), np.zeros(len(z))])
        pair_weights = np.concatenate([weights * soft, weights * (1.0 - soft)]) + 1e-9
        fit = LogisticRegression(C=READOUT_C, max_iter=3000).fit(twice, labels, sample_weight=pair_weights)
        self.coef = fit.coef_[0].astype(np.float64)
        self.bias = float(fit.intercept_[0])

    def real_probability(self, features: np.ndarray) -> np.ndarray:
        logit = ((features - self.mean) / self.scale) @ self.coef + self.bias
        return 1.0 / (1.0 + np.exp(-logit))

    def dense_weights(self, real_index: int, n_features: int) -> list[np.ndarray]:
        """Kernel and bias of a 2-way softmax Dense layer that gives the same probabilities."""
        kernel = np.zeros((n_features, 2), np.float32)
        bias = np.zeros(2, np.float32)
        kernel[:, real_index] = self.coef / self.scale
        bias[real_index] = self.bias - float(np.sum(self.coef * self.mean / self.scale))
        return [kernel, bias]


def readout_targets(is_real: np.ndarray, teacher: np.ndarray | None, weight: float) -> np.ndarray:
    """The label, or (with a teacher) `weight` of the teacher's real-probability mixed into it."""
    labels = is_real.astype(np.float64)
    return labels if teacher is None else (1.0 - weight) * labels + weight * teacher


def fit_readout(
    model: Any,
    images: np.ndarray,
    is_real: np.ndarray,
    sources: list[str],
    soft: np.ndarray,
    folds: list[np.ndarray],
    real_index: int,
) -> np.ndarray:
    """Fit the read-out into `model` (its backbone computes each face's features once); returns
    the out-of-fold real-probabilities, NaN for faces no fold scored."""
    from liveness.models.efficientnet_lite import feature_extractor

    log.info("features of %d faces from the frozen backbone", len(images))
    features = feature_extractor(model).predict(images.astype(np.float32), batch_size=64, verbose=0)
    features = features.astype(np.float64)
    weights = source_weights(sources, is_real)
    out_of_fold = np.full(len(images), np.nan)
    for held in folds:
        rest = np.setdiff1d(np.arange(len(images)), held)
        out_of_fold[held] = ReadOut(features[rest], soft[rest], weights[rest]).real_probability(
            features[held]
        )
    final = ReadOut(features, soft, weights)
    model.get_layer("probabilities").set_weights(final.dense_weights(real_index, features.shape[1]))
    return out_of_fold
