import pytest

from liveness.detect import DETECTORS, create_detector
from liveness.errors import UnknownComponentError
from liveness.registry import Registry


def test_unknown_name_lists_the_known_ones():
    reg: Registry[int] = Registry("widget")
    reg.register("one")(lambda: 1)
    with pytest.raises(UnknownComponentError, match="unknown widget 'two'; known: one"):
        reg.create("two")


def test_double_registration_is_refused():
    reg: Registry[int] = Registry("widget")
    reg.register("one")(lambda: 1)
    with pytest.raises(ValueError, match="twice"):
        reg.register("one")(lambda: 2)


@pytest.mark.parametrize("name", DETECTORS.names())
def test_every_registered_detector_builds(name):
    assert create_detector(name).name == name


def test_every_registered_model_builds():
    from liveness.models import MODELS, build_model

    assert "livenessnet" in MODELS.names()
    for name in MODELS.names():
        model = build_model(name, input_size=32, n_classes=2)
        assert tuple(model.outputs[0].shape) == (None, 2)  # more outputs only guide training
        assert model.input_shape == (None, 32, 32, 3)
