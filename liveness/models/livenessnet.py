"""LivenessNet: the seed architecture of the tutorial, in Keras 3.

Two blocks of two 3x3 convolutions (16 then 32 filters, ReLU, batch norm),
each closed by 2x2 max-pooling and dropout 0.25; then Dense 64, batch norm,
dropout 0.5 and a softmax over the classes. Input size is configurable
(the tutorial uses 32x32).
"""

from __future__ import annotations

import keras
from keras import layers

from liveness.models import MODELS


def _conv_block(x: keras.KerasTensor, filters: int) -> keras.KerasTensor:
    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(2)(x)
    return layers.Dropout(0.25)(x)


@MODELS.register("livenessnet")
def livenessnet(input_size: int = 32, n_classes: int = 2) -> keras.Model:
    inputs = keras.Input((input_size, input_size, 3), name="image")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    x = _conv_block(x, 16)
    x = _conv_block(x, 32)
    x = layers.Flatten()(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="livenessnet")
