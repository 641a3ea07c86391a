import numpy as np
import pytest

keras = pytest.importorskip("keras")

from liveness.models import build_model  # noqa: E402
from liveness.models.layers import ImageStandardise  # noqa: E402


@pytest.mark.parametrize("grey", [False, True])
def test_standardised_images_ignore_brightness_and_contrast(grey):
    rng = np.random.default_rng(0)
    images = rng.uniform(20, 200, (2, 16, 16, 3)).astype(np.float32)
    layer = ImageStandardise(grey=grey, epsilon=0.0)
    out = np.asarray(layer(images))
    assert out.shape == (2, 16, 16, 1 if grey else 3)
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2, 3)), 1.0, atol=1e-4)
    np.testing.assert_allclose(np.asarray(layer(images * 0.6 + 30.0)), out, atol=1e-4)


@pytest.mark.parametrize("name", ["fasnet-std", "fasnet-grey", "fasnet-mix"])
def test_custom_layer_models_survive_a_safe_mode_round_trip(name, tmp_path):
    model = build_model(name, 64, 2)
    images = np.random.default_rng(1).uniform(0, 255, (3, 64, 64, 3)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-5)


def test_mixstyle_mixes_only_while_training():
    from liveness.models.layers import MixStyle

    rng = np.random.default_rng(2)
    features = rng.normal(0, 1, (8, 6, 6, 4)).astype(np.float32) * rng.uniform(0.5, 3, (8, 1, 1, 4)).astype(
        np.float32
    )
    layer = MixStyle(probability=1.0, alpha=0.1, seed=3)
    np.testing.assert_array_equal(np.asarray(layer(features, training=False)), features)
    mixed = np.asarray(layer(features, training=True))
    assert mixed.shape == features.shape
    assert np.abs(mixed - features).mean() > 0.05
    # the content survives: each map keeps its own normalised pattern
    norm = lambda a: (a - a.mean(axis=(1, 2), keepdims=True)) / a.std(axis=(1, 2), keepdims=True)  # noqa: E731
    np.testing.assert_allclose(norm(mixed), norm(features), atol=1e-2)


def test_patch_model_answers_with_the_mean_of_its_cell_decisions():
    model = build_model("fasnet-patch", 80, 2)
    images = np.random.default_rng(4).uniform(0, 255, (2, 80, 80, 3)).astype(np.float32)
    probabilities, cells = (np.asarray(t) for t in model(images, training=False))
    assert cells.shape == (2, 10, 10, 2)
    np.testing.assert_allclose(cells.sum(axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probabilities, cells.mean(axis=(1, 2)), atol=1e-6)


def test_training_a_patch_model_saves_only_its_probabilities(gathered, tmp_path):
    from liveness.engine.backends import LiteRTBackend
    from liveness.train import TrainConfig, train

    config = TrainConfig(
        dataset=str(gathered),
        model=str(tmp_path / "m.keras"),
        plot=str(tmp_path / "plot.png"),
        architecture="fasnet-patch",
        input_size=64,
        epochs=2,
        batch_size=16,
    )
    result = train(config)
    assert {"loss", "accuracy", "patch_map_loss", "val_accuracy"} <= set(result.history)
    loaded = keras.saving.load_model(result.model_path, safe_mode=True)
    assert len(loaded.outputs) == 1
    images = np.random.default_rng(5).uniform(0, 255, (3, 64, 64, 3)).astype(np.float32)
    lite = LiteRTBackend(result.model_path.with_suffix(".tflite"), 64).run(images)
    np.testing.assert_allclose(lite, loaded.predict(images, verbose=0), atol=1e-4)
    assert (tmp_path / "plot.png").stat().st_size > 0
