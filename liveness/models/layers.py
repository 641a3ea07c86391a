"""Custom layers shared by the model builders, registered so safe-mode loading accepts them."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="liveness")
class ImageStandardise(keras.layers.Layer):
    """Give every image zero mean and unit spread, optionally in grey only.

    Global brightness, contrast, colour cast and saturation differ between
    cameras and, in opposite directions, between datasets (Replay-Attack's
    replays have more contrast than its live faces, NUAA's prints less), so a
    network that can read them learns one dataset. Standardising each image
    inside the model takes them away at training and inference alike.
    """

    def __init__(self, grey: bool = False, epsilon: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.grey = grey
        self.epsilon = epsilon

    def call(self, images):
        x = images
        if self.grey:
            x = ops.sum(
                x * ops.convert_to_tensor([0.299, 0.587, 0.114], dtype=x.dtype), axis=-1, keepdims=True
            )
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        spread = ops.sqrt(ops.mean(ops.square(x - mean), axis=(1, 2, 3), keepdims=True))
        return (x - mean) / (spread + self.epsilon)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1 if self.grey else input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "grey": self.grey, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="liveness")
class MixStyle(keras.layers.Layer):
    """Swap feature "style" between images of a batch while training (Zhou et al., ICLR 2021).

    Early feature maps' per-channel means and spreads carry the camera and
    lighting more than the content. Mixing them with another image's, with a
    Beta-distributed weight, shows the network each face under other images'
    styles, so style alone stops predicting the label. Identity at inference.
    """

    def __init__(self, probability: float = 0.5, alpha: float = 0.1, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.probability = probability
        self.alpha = alpha
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training:
            return x
        n = ops.shape(x)[0]
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        spread = ops.sqrt(ops.var(x, axis=(1, 2), keepdims=True) + 1e-6)
        normalised = (x - mean) / spread
        weight = keras.random.beta((n, 1, 1, 1), self.alpha, self.alpha, seed=self.seed_generator)
        partner = keras.random.shuffle(ops.arange(n), seed=self.seed_generator)
        mixed_mean = weight * mean + (1.0 - weight) * ops.take(mean, partner, axis=0)
        mixed_spread = weight * spread + (1.0 - weight) * ops.take(spread, partner, axis=0)
        mixed = normalised * ops.stop_gradient(mixed_spread) + ops.stop_gradient(mixed_mean)
        chosen = keras.random.uniform((n, 1, 1, 1), seed=self.seed_generator) < self.probability
        return ops.where(chosen, mixed, x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "probability": self.probability,
            "alpha": self.alpha,
            "seed": self.seed,
        }
