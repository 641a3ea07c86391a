"""Logging set-up for the command line (library code only creates loggers)."""

from __future__ import annotations

import logging
import os
import warnings


def setup_logging(verbosity: int = 0) -> None:
    """INFO by default, DEBUG with -v, WARNING with -q; quiets TensorFlow's C++ chatter."""
    level = logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for noisy in ("absl", "tensorflow", "tf2onnx", "h5py", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    warnings.filterwarnings("ignore", module="keras.src.trainers.data_adapters")
