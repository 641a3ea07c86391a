"""FASNet: a compact depthwise-separable liveness network (MobileNetV2-style), our own design.

Inverted-residual blocks (1x1 expand, 3x3 depthwise, 1x1 project) keep it
under ~0.3 M parameters so it runs in well under a millisecond per face on a
CPU, while seeing enough resolution (64-112 px) for print and screen texture.
"""

from __future__ import annotations

import keras
from keras import layers

from liveness.models import MODELS
from liveness.models.layers import ImageStandardise, MixStyle

# (output channels, stride, repeats)
STAGES = ((32, 1, 1), (48, 2, 2), (64, 2, 2), (96, 2, 2), (128, 1, 1))
# BatchNorm keeps Keras' momentum 0.99, under which validation answers one class for the first
# ~12 epochs on Replay-Attack. At 0.9 validation is meaningful from epoch 2, but the models fit
# Replay-Attack's held-out training subjects faster and did worse everywhere else (3 seeds:
# devel video ACER 5.6 % against 4.7 %, NUAA AUC 0.46 against 0.60; docs/across_datasets.md).


def _inverted_residual(
    x: keras.KerasTensor, out: int, stride: int, expand: int = 3, momentum: float = 0.99
) -> keras.KerasTensor:
    inp = x.shape[-1]
    y = layers.Conv2D(inp * expand, 1, use_bias=False)(x)
    y = layers.BatchNormalization(momentum=momentum)(y)
    y = layers.ReLU(6.0)(y)
    y = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization(momentum=momentum)(y)
    y = layers.ReLU(6.0)(y)
    y = layers.Conv2D(out, 1, use_bias=False)(y)
    y = layers.BatchNormalization(momentum=momentum)(y)
    return layers.Add()([x, y]) if stride == 1 and inp == out else y


@MODELS.register("fasnet")
def fasnet(
    input_size: int = 80,
    n_classes: int = 2,
    width: float = 1.0,
    dropout: float = 0.3,
    standardise: str = "none",
    mixstyle: bool = False,
    patch_map_after: int | None = None,
    spectrum_after: int | None = None,
    bn_momentum: float = 0.99,
) -> keras.Model:
    """`standardise`: "none" (scale to -1..1), "colour" or "grey" (see ImageStandardise);
    `mixstyle`: mix feature styles between images after the stem and the first two stages;
    `patch_map_after`: end the network after this stage with a map of local decisions
    (see `_patch_vote`); `spectrum_after`: also predict the input's Fourier spectrum from
    this stage's features while training (see `_spectrum_head`); `bn_momentum`: how slowly
    the BatchNorm statistics used at inference follow training (see STAGES' comment)."""
    inputs = keras.Input((input_size, input_size, 3), name="image")
    if standardise == "none":
        x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    else:
        x = ImageStandardise(grey=standardise == "grey", name="standardise")(inputs)
    x = layers.Conv2D(int(24 * width), 3, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=bn_momentum)(x)
    x = layers.ReLU(6.0)(x)
    if mixstyle:
        x = MixStyle(name="mixstyle_stem")(x)
    for stage, (channels, stride, repeats) in enumerate(STAGES):
        for i in range(repeats):
            x = _inverted_residual(x, int(channels * width), stride if i == 0 else 1, momentum=bn_momentum)
        if mixstyle and stage < 2:
            x = MixStyle(name=f"mixstyle_{stage}")(x)
        if stage == patch_map_after:
            return _patch_vote(inputs, x, n_classes, dropout)
        if stage == spectrum_after:
            spectrum = _spectrum_head(x)
    x = layers.Conv2D(int(256 * width), 1, use_bias=False)(x)
    x = layers.BatchNormalization(momentum=bn_momentum)(x)
    x = layers.ReLU(6.0)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    if spectrum_after is not None:
        return keras.Model(inputs, [outputs, spectrum], name="fasnet_ft")
    return keras.Model(inputs, outputs, name="fasnet")


def _spectrum_head(x: keras.KerasTensor) -> keras.KerasTensor:
    """A small branch that redraws the log-magnitude Fourier spectrum of the input face.

    Recapture changes a face's frequency content (print dots, moiré, lost fine
    detail); asking the features to carry the spectrum, for live faces and
    attacks alike, is the auxiliary target of Silent-Face's MiniFASNet training.
    The target is label-free and computed by `train` from each augmented image.
    """
    y = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU(6.0)(y)
    return layers.Conv2D(1, 1, activation="sigmoid", name="spectrum")(y)


def _patch_vote(
    inputs: keras.KerasTensor, x: keras.KerasTensor, n_classes: int, dropout: float
) -> keras.Model:
    """Every cell of the feature map decides alone; the image's answer is their mean.

    A cell sees only part of the crop (43 px of 80 after stage 2), so the
    decision must rest on local texture (print dots, moiré, skin) rather than
    on whole-image brightness and contrast, which flip between datasets.
    During training the model also returns the cell map ("patch_map"), which
    `train` supervises cell by cell, as DeepPixBiS (George and Marcel, 2019)
    does; the saved model keeps only the averaged probabilities.
    """
    x = layers.Conv2D(128, 1, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(6.0)(x)
    x = layers.SpatialDropout2D(dropout)(x)
    cells = layers.Conv2D(n_classes, 1, activation="softmax", name="patch_map")(x)
    outputs = layers.GlobalAveragePooling2D(name="probabilities")(cells)
    return keras.Model(inputs, [outputs, cells], name="fasnet_patch")


@MODELS.register("fasnet-std")
def fasnet_std(input_size: int = 80, n_classes: int = 2) -> keras.Model:
    """FASNet blind to each image's brightness, contrast and colour cast."""
    return fasnet(input_size, n_classes, standardise="colour")


@MODELS.register("fasnet-grey")
def fasnet_grey(input_size: int = 80, n_classes: int = 2) -> keras.Model:
    """FASNet on standardised grey levels: texture and shape only."""
    return fasnet(input_size, n_classes, standardise="grey")


@MODELS.register("fasnet-mix")
def fasnet_mix(input_size: int = 80, n_classes: int = 2) -> keras.Model:
    """FASNet with MixStyle: early feature statistics mixed across the batch while training."""
    return fasnet(input_size, n_classes, mixstyle=True)


@MODELS.register("fasnet-patch")
def fasnet_patch(input_size: int = 80, n_classes: int = 2) -> keras.Model:
    """FASNet cut after the stride-8 stage: the mean of 10x10 local decisions (at 80 px)."""
    return fasnet(input_size, n_classes, patch_map_after=2)


@MODELS.register("fasnet-ft")
def fasnet_ft(input_size: int = 80, n_classes: int = 2) -> keras.Model:
    """FASNet that also learns to redraw the input's Fourier spectrum (training only)."""
    return fasnet(input_size, n_classes, spectrum_after=2)


@MODELS.register("fasnet-bn9")
def fasnet_bn9(input_size: int = 80, n_classes: int = 2) -> keras.Model:
    """FASNet whose inference statistics follow training ten times faster (BatchNorm momentum 0.9).

    At Keras' 0.99 the network answers one class on validation for its first
    few hundred steps; a short run on a corpus of many sources would stop
    early on a model that never validated. 0.9 validates from the first epoch.
    """
    return fasnet(input_size, n_classes, bn_momentum=0.9)
