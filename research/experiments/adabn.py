#!/usr/bin/env python3
"""Does re-estimating BatchNorm statistics on the new camera's faces (AdaBN) help across datasets?

Test-time adaptation without labels: each BatchNorm layer's moving mean and
variance are replaced, layer by layer, with those of the new camera's faces,
so the network sees that camera's features normalised as it saw Replay-Attack's.
Scores NUAA before and after, two ways: statistics from all NUAA faces
(unlabelled, attacks included), and from live faces of subjects 0001-0004 only
(what a user can record) scored on subjects 0005-0008. Reuses the faces gathered
by `cross_dataset.py` (run it once first, with the same --margin).

    python research/experiments/adabn.py runs/cross/fasnet_seed7/fasnet.keras \\
        runs/cross/fasnet_seed1/fasnet.keras
"""

from __future__ import annotations

import argparse
from functools import cache, partial
from pathlib import Path

import numpy as np

from liveness.cards import ModelCard, card_path_for
from liveness.data.datasets import load_images, load_samples
from liveness.evaluate.metrics import auc as roc_auc
from liveness.export import load_keras_model

ADDED = {f"nuaa_000{i}" for i in range(1, 5)}


@cache
def faces(manifest: Path, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model inputs, is-real and is-added-subject flags for every gathered face (read once a size)."""
    samples = load_samples(manifest)
    images, kept = load_images(samples, size)
    kept_samples = [samples[i] for i in kept]
    real = np.array([s.label == "real" for s in kept_samples])
    added = np.array([s.subject in ADDED for s in kept_samples])
    return images.astype(np.float32), real, added


def adapt_batchnorm(model, images: np.ndarray) -> None:
    """Set every BatchNorm layer's statistics to those of its inputs on `images`, in order."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            features = keras.Model(model.inputs, layer.input).predict(images, batch_size=256, verbose=0)
            axes = tuple(range(features.ndim - 1))
            layer.moving_mean.assign(features.mean(axis=axes))
            layer.moving_variance.assign(features.var(axis=axes))


def auc(model, images: np.ndarray, real: np.ndarray, real_index: int) -> float:
    return roc_auc(real, model.predict(images, batch_size=256, verbose=0)[:, real_index])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", type=Path, help=".keras models trained on Replay-Attack")
    p.add_argument("--work", type=Path, default=Path("/tmp/liveness-cross"), help="gathered faces")
    p.add_argument("--margin", type=float, default=1.6)
    args = p.parse_args()
    manifest = args.work / f"margin{args.margin:g}" / "nuaa" / "manifest.csv"
    print("| model | NUAA AUC | AdaBN on all NUAA faces | NUAA 5-8 AUC | AdaBN on live faces of 1-4 |")
    print("|---|---|---|---|---|")
    for path in args.models:
        model = load_keras_model(path)
        score = partial(auc, model, real_index=ModelCard.load(card_path_for(path)).real_index)
        images, real, added = faces(manifest, model.input_shape[1])
        weights = model.get_weights()
        before = score(images, real), score(images[~added], real[~added])
        adapt_batchnorm(model, images)
        after_all = score(images, real)
        model.set_weights(weights)
        adapt_batchnorm(model, images[added & real])
        after_live = score(images[~added], real[~added])
        print(f"| {path} | {before[0]:.3f} | {after_all:.3f} | {before[1]:.3f} | {after_live:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
