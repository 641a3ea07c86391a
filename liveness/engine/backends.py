"""Runtimes that turn a batch of model inputs into class probabilities.

LiteRT runs the exported `.tflite` without TensorFlow and is the default.
ONNX Runtime runs imported face-PAD models (`liveness import-onnx`), whose
cards declare their own layout, input range and outputs: `CardConventions`
turns the engine's batches (NHWC, 0-255) into what such a model expects and
its logits into probabilities, per member, so an ensemble averages
probabilities. A colour-texture model (`liveness.texture`) runs on NumPy and
OpenCV. The Keras backend exists for models not yet exported; it imports
TensorFlow and calls the model through one compiled function, never
`model.predict`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from liveness.cards import ModelCard
from liveness.errors import ModelLoadError
from liveness.texture import ARCHITECTURE as TEXTURE_ARCHITECTURE
from liveness.texture import SUFFIX as TEXTURE_SUFFIX
from liveness.texture import TextureModel

log = logging.getLogger(__name__)


class Backend(Protocol):
    name: str

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities, shape (N, classes), for a float32 NHWC batch."""
        ...


class LiteRTBackend:
    """A `.tflite` model run by `ai-edge-litert`, resized to each batch size."""

    name = "litert"

    def __init__(self, path: Path, expected: tuple[int, ...], threads: int | None = None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ModelLoadError("the LiteRT runtime is missing: pip install ai-edge-litert") from None
        try:
            self.interpreter = Interpreter(model_path=str(path), num_threads=threads or _threads())
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"{path} is not a LiteRT model: {exc}") from None
        detail = self.interpreter.get_input_details()[0]
        shape = tuple(int(v) for v in detail["shape"][1:])
        if shape != expected:
            raise ModelLoadError(f"{path} expects inputs of shape {shape}, but its card says {expected}")
        self._input = detail["index"]
        self._output = self.interpreter.get_output_details()[0]["index"]
        self._batch = 0

    def run(self, batch: np.ndarray) -> np.ndarray:
        if batch.shape[0] != self._batch:
            self.interpreter.resize_tensor_input(self._input, list(batch.shape))
            self.interpreter.allocate_tensors()
            self._batch = batch.shape[0]
        self.interpreter.set_tensor(self._input, np.ascontiguousarray(batch, dtype=np.float32))
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output).copy()


class ONNXBackend:
    """An `.onnx` model run by ONNX Runtime on the CPU; a model exported with a fixed batch of one
    is fed one face at a time."""

    name = "onnx"

    def __init__(self, path: Path, expected: tuple[int, ...], threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelLoadError("ONNX models need ONNX Runtime: pip install onnxruntime") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _threads()
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for unreadable graphs
            raise ModelLoadError(f"{path} is not an ONNX model ONNX Runtime can run: {exc}") from None
        detail = self.session.get_inputs()[0]
        shape = tuple(detail.shape[1:])
        fixed = [(d, e) for d, e in zip(shape, expected, strict=False) if isinstance(d, int)]
        if len(shape) != 3 or any(d != e for d, e in fixed):
            raise ModelLoadError(f"{path} expects inputs of shape {shape}, but its card says {expected}")
        self._input = detail.name
        self._one_at_a_time = detail.shape[0] == 1

    def run(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if self._one_at_a_time and batch.shape[0] != 1:
            return np.concatenate([self.session.run(None, {self._input: item[None]})[0] for item in batch])
        return self.session.run(None, {self._input: batch})[0]


class CardConventions:
    """A member model fed by its card: pixels scaled to its input range, NCHW when it says so,
    logits turned into probabilities."""

    def __init__(self, inner: Backend, card: ModelCard) -> None:
        self.inner, self.card = inner, card
        self.name = inner.name

    def run(self, batch: np.ndarray) -> np.ndarray:
        if self.card.pixel_scale != 1.0:
            batch = batch * np.float32(self.card.pixel_scale)
        if self.card.layout == "NCHW":
            batch = batch.transpose(0, 3, 1, 2)
        out = self.inner.run(batch)
        return softmax(out) if self.card.outputs == "logits" else out


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class KerasBackend:
    """A `.keras` model called through a compiled `tf.function` (imports TensorFlow)."""

    name = "keras"

    def __init__(self, path: Path, expected: tuple[int, ...]) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        from liveness.export import load_keras_model

        self.model = load_keras_model(path)
        if tuple(self.model.input_shape[1:]) != expected:
            raise ModelLoadError(f"{path} expects {self.model.input_shape[1:]}, its card says {expected}")
        self._call: Any = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)

    def run(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self._call(np.ascontiguousarray(batch, dtype=np.float32)))


class TextureBackend:
    """A colour-texture model (`liveness.texture`): a descriptor and linear read-outs in NumPy."""

    name = "texture"

    def __init__(self, path: Path, card: ModelCard) -> None:
        self.model = TextureModel.load(path)
        if len(card.class_names) != 2:
            raise ModelLoadError(
                f"{path}: a colour-texture model has two classes, its card lists {card.class_names}"
            )

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self.model.probabilities(batch)


class MeanBackend:
    """Several models of one input shape answering as one: the mean of their probabilities.

    Models of one recipe trained with different seeds disagree most on faces
    unlike their training data; their mean takes out that seed-to-seed luck
    (README, "Adding live faces of a new camera") for well under a millisecond
    a face per member.
    """

    def __init__(self, members: list[Backend]) -> None:
        self.members = members
        self.name = f"{members[0].name} x{len(members)}"

    def run(self, batch: np.ndarray) -> np.ndarray:
        return np.mean([member.run(batch) for member in self.members], axis=0)


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def open_model_backend(stem: Path, card: ModelCard, runtime: str = "auto") -> Backend:
    """The backend of the model at `stem`, or of each member beside it for an ensemble."""
    if not card.members:
        return open_backend(stem, card, runtime)
    return MeanBackend([open_backend(stem.with_name(m), card, runtime) for m in card.members])


RUNTIMES = ("auto", "litert", "onnx", "keras")


def open_backend(stem: Path, card: ModelCard, runtime: str = "auto") -> Backend:
    """The fastest runtime available for the model files at `stem` (`.tflite`, `.onnx`, `.keras`)."""
    if runtime not in RUNTIMES:
        raise ModelLoadError(f"unknown runtime {runtime!r}; known: {', '.join(RUNTIMES)}")
    if card.architecture == TEXTURE_ARCHITECTURE:
        path = stem.with_name(stem.name + TEXTURE_SUFFIX)
        if not path.is_file():
            raise ModelLoadError(
                f"{path} not found: a colour-texture model's card needs its {TEXTURE_SUFFIX} file"
            )
        return TextureBackend(path, card)
    files = {suffix: stem.with_name(stem.name + suffix) for suffix in (".tflite", ".onnx", ".keras")}
    size = card.input_size
    expected = (3, size, size) if card.layout == "NCHW" else (size, size, 3)
    backend: Backend | None = None
    if runtime in ("auto", "litert") and files[".tflite"].is_file():
        backend = LiteRTBackend(files[".tflite"], expected)
    elif runtime in ("auto", "onnx") and files[".onnx"].is_file():
        backend = ONNXBackend(files[".onnx"], expected)
    elif runtime in ("litert", "onnx"):
        suffix = ".tflite" if runtime == "litert" else ".onnx"
        raise ModelLoadError(f"{files[suffix]} not found; the {runtime} runtime needs it")
    elif files[".keras"].is_file():
        if runtime == "auto":
            log.warning("%s has no exported .tflite; using the slower Keras runtime", files[".keras"])
        backend = KerasBackend(files[".keras"], expected)
    if backend is None:
        raise ModelLoadError(f"no model file found for {stem} (.tflite, .onnx or .keras)")
    default = card.pixel_scale == 1.0 and card.layout == "NHWC" and card.outputs == "probabilities"
    return backend if default else CardConventions(backend, card)
