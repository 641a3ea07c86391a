"""Export a trained Keras model for the inference engine: LiteRT `.tflite`, or ONNX.

The engine runs the `.tflite` file with `ai-edge-litert`, so inference needs
neither TensorFlow nor `model.predict`. ONNX (through `tf2onnx`, which the
`onnx` extra installs) is for running the project's models elsewhere, e.g. in
ONNX Runtime or on a device with its own ONNX toolchain; the engine also runs it
(`--runtime onnx`). Either way the model keeps its card's conventions (NHWC,
0-255, probabilities) and the card records the new file's sha256.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from pathlib import Path
from typing import Any

from liveness.cards import ModelCard, card_path_for, sha256_of
from liveness.errors import ModelLoadError

log = logging.getLogger(__name__)


def load_keras_model(path: Path) -> Any:
    """Load a `.keras` file in safe mode (no arbitrary Python from the file); the project's own
    layers are registered by importing its model builders first."""
    import keras

    import liveness.models  # noqa: F401

    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"model not found: {path}")
    if path.suffix != ".keras":
        raise ModelLoadError(f"{path}: expected a Keras 3 '.keras' file")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # keras raises many types for a bad file
        raise ModelLoadError(f"{path} is not a loadable Keras model: {exc}") from None


def export_tflite(model: Any, path: Path) -> Path:
    """Convert a Keras model to LiteRT with a dynamic batch dimension."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    path = Path(path)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its SavedModel
            flatbuffer = converter.convert()
    except Exception as exc:
        raise ModelLoadError(f"LiteRT conversion failed: {exc}") from None
    path.write_bytes(flatbuffer)
    log.info("exported %s (%.1f kB)", path, len(flatbuffer) / 1024)
    return path


def export_onnx(model: Any, path: Path) -> Path:
    """Convert a Keras model to ONNX (opset 17) with a dynamic batch dimension."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    try:
        import tf2onnx
    except ImportError:
        raise ModelLoadError("ONNX export needs tf2onnx: pip install 'face-liveness[onnx]'") from None
    path = Path(path)
    signature = (tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="input"),)
    forward = tf.function(tf.autograph.experimental.do_not_convert(lambda x: model(x, training=False)))
    try:
        tf2onnx.convert.from_function(forward, input_signature=signature, opset=17, output_path=str(path))
    except Exception as exc:  # tf2onnx raises many types for graphs it cannot convert
        raise ModelLoadError(f"ONNX conversion failed: {exc}") from None
    log.info("exported %s (%.1f kB)", path, path.stat().st_size / 1024)
    return path


EXPORTERS = {"tflite": export_tflite, "onnx": export_onnx}


def export_model(keras_path: Path, fmt: str = "tflite") -> Path:
    """Write `m.tflite` (or `m.onnx`) beside `m.keras` and record its hash in the card `m.card.json`."""
    if fmt not in EXPORTERS:
        raise ModelLoadError(f"unknown export format {fmt!r}; known: {', '.join(EXPORTERS)}")
    keras_path = Path(keras_path)
    card_file = card_path_for(keras_path)
    card = ModelCard.load(card_file)
    exported = EXPORTERS[fmt](load_keras_model(keras_path), keras_path.with_suffix(f".{fmt}"))
    files = {**card.files, exported.name: sha256_of(exported)}
    card.replace(files=files).save(card_file)
    return exported
