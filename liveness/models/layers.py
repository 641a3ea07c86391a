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
