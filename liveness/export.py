"""Export a trained Keras model for the inference engine (LiteRT `.tflite`).

The engine runs the `.tflite` file with `ai-edge-litert`, so inference needs
neither TensorFlow nor `model.predict`.
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
    """Load a `.keras` file in safe mode (no arbitrary Python from the file)."""
    import keras

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


def export_model(keras_path: Path) -> Path:
    """Write `m.tflite` beside `m.keras` and record its hash in the card `m.json`."""
    keras_path = Path(keras_path)
    card_file = card_path_for(keras_path)
    card = ModelCard.load(card_file)
    tflite = export_tflite(load_keras_model(keras_path), keras_path.with_suffix(".tflite"))
    files = {**card.files, tflite.name: sha256_of(tflite)}
    card.replace(files=files).save(card_file)
    return tflite
