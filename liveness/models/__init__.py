"""Keras model builders, registered by name (this package imports Keras).

Every builder takes the input size and the number of classes and returns an
uncompiled Keras model whose input is an RGB batch in 0-255 (scaling is a
layer of the model, so exported runtimes need no extra preprocessing) and
whose (first) output is a softmax over the classes. Further outputs, such as
FASNet-patch's cell map, are training targets only: `train` saves the model
without them.
"""

from __future__ import annotations

from typing import Any

from liveness.registry import Registry

MODELS: Registry[Any] = Registry("model architecture")


def build_model(name: str, input_size: int, n_classes: int, **options: Any) -> Any:
    """Build the registered architecture `name`."""
    return MODELS.create(name, input_size=input_size, n_classes=n_classes, **options)


from liveness.models import efficientnet_lite as _efficientnet_lite  # noqa: E402,F401
from liveness.models import fasnet as _fasnet  # noqa: E402,F401
from liveness.models import livenessnet as _livenessnet  # noqa: E402,F401
