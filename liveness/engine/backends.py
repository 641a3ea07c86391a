"""Runtimes that turn a batch of model inputs into class probabilities.

LiteRT runs the exported `.tflite` without TensorFlow and is the default.
The Keras backend exists for models not yet exported; it imports TensorFlow
and calls the model through one compiled function, never `model.predict`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from liveness.errors import ModelLoadError

log = logging.getLogger(__name__)


class Backend(Protocol):
    name: str

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities, shape (N, classes), for a float32 NHWC batch."""
        ...


class LiteRTBackend:
    """A `.tflite` model run by `ai-edge-litert`, resized to each batch size."""

    name = "litert"

    def __init__(self, path: Path, input_size: int, threads: int | None = None) -> None:
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
        if shape != (input_size, input_size, 3):
            raise ModelLoadError(
                f"{path} expects inputs of shape {shape}, but its card says {input_size}x{input_size}x3"
            )
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


class KerasBackend:
    """A `.keras` model called through a compiled `tf.function` (imports TensorFlow)."""

    name = "keras"

    def __init__(self, path: Path, input_size: int) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        from liveness.export import load_keras_model

        self.model = load_keras_model(path)
        expected = (input_size, input_size, 3)
        if tuple(self.model.input_shape[1:]) != expected:
            raise ModelLoadError(f"{path} expects {self.model.input_shape[1:]}, its card says {expected}")
        self._call: Any = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)

    def run(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self._call(np.ascontiguousarray(batch, dtype=np.float32)))


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


def open_model_backend(
    stem: Path, input_size: int, members: tuple[str, ...], runtime: str = "auto"
) -> Backend:
    """The backend of the model at `stem`, or of each member beside it for an ensemble."""
    if not members:
        return open_backend(stem, input_size, runtime)
    return MeanBackend([open_backend(stem.with_name(m), input_size, runtime) for m in members])


def open_backend(stem: Path, input_size: int, runtime: str = "auto") -> Backend:
    """The fastest runtime available for the model files at `stem` (`stem.tflite`, `stem.keras`)."""
    tflite, keras_file = stem.with_name(stem.name + ".tflite"), stem.with_name(stem.name + ".keras")
    if runtime not in ("auto", "litert", "keras"):
        raise ModelLoadError(f"unknown runtime {runtime!r}; known: auto, litert, keras")
    if runtime in ("auto", "litert") and tflite.is_file():
        return LiteRTBackend(tflite, input_size)
    if runtime == "litert":
        raise ModelLoadError(f"{tflite} not found; run `liveness export --model {keras_file}`")
    if keras_file.is_file():
        if runtime == "auto":
            log.warning("%s has no exported .tflite; using the slower Keras runtime", keras_file)
        return KerasBackend(keras_file, input_size)
    raise ModelLoadError(f"no model file found for {stem} (.tflite or .keras)")
