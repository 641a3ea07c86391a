import cv2
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from liveness.augment import (  # noqa: E402
    framed,
    photometric,
    print_attack,
    retarget,
    screen_attack,
    synthesise_attacks,
)
from tests.conftest import small_fasnet_config  # noqa: E402


@pytest.fixture(scope="module")
def faces():
    rng = np.random.default_rng(0)
    base = np.linspace(40, 220, 48, dtype=np.float32)
    images = np.stack([np.stack([np.add.outer(base, base) / 2] * 3, axis=-1)] * 4)
    return tf.constant(images + rng.normal(0, 2, images.shape).astype(np.float32))


@pytest.mark.parametrize("transform", [photometric, print_attack, screen_attack])
def test_transforms_keep_shape_and_range_and_change_pixels(faces, transform):
    out = transform(faces).numpy()
    assert out.shape == faces.shape
    assert out.min() >= 0.0 and out.max() <= 255.0
    assert np.abs(out - faces.numpy()).mean() > 1.0


def test_print_attack_reduces_contrast(faces):
    assert print_attack(faces).numpy().std() < faces.numpy().std()


def test_framed_attacks_keep_the_face_and_show_a_frame_or_scene_at_the_edges(faces):
    tf.random.set_seed(0)
    batch = tf.concat([faces] * 8, axis=0)  # 32 images: some boxes reach past every edge, most do not
    fake = batch * 0.5
    out = framed(fake, batch).numpy()
    middle = slice(16, 32)  # the box always covers the middle 40 % of the crop
    np.testing.assert_array_equal(out[:, middle, middle], fake.numpy()[:, middle, middle])
    changed = np.abs(out - fake.numpy()).mean(axis=(1, 2, 3)) > 1.0
    assert changed.sum() >= len(out) // 2  # an edge shows for ~97 % of boxes
    assert out.min() >= 0.0 and out.max() <= 255.0


def test_retargeted_brightness_and_colour_no_longer_tell_the_class():
    rng = np.random.default_rng(1)
    attack = np.arange(256) >= 128  # "live" dark and flat, "attack" bright and crisp
    level = np.where(attack, 115.0, 85.0).astype(np.float32)[:, None, None, None]
    texture = np.where(attack, 0.4, 0.2)[:, None, None, None] * rng.uniform(-1, 1, (256, 40, 40, 1))
    images = (level * np.array([1.2, 1.0, 0.8]) * (1.0 + texture)).astype(np.float32)
    out = retarget(tf.constant(images), share=1.0).numpy()
    centre = out[:, 8:32, 8:32]
    brightness = centre.mean(axis=(1, 2, 3))
    chroma = np.abs(centre - centre.mean(axis=3, keepdims=True)).mean(axis=(1, 2, 3))
    contrast = out.mean(axis=3).std(axis=(1, 2))
    assert brightness.min() >= 40.0 and brightness.max() <= 215.0
    assert brightness.std() > 30.0
    for statistic in (brightness, contrast, chroma):  # the class gap is gone (before: 30 grey levels)
        assert abs(statistic[:128].mean() - statistic[128:].mean()) < 0.35 * statistic.std()
    np.testing.assert_array_equal(retarget(tf.constant(images), share=0.0).numpy(), images)


def _fine_detail(images: np.ndarray) -> np.ndarray:
    grey = images.mean(axis=3)
    smooth = np.stack([cv2.blur(g, (3, 3)) for g in grey])
    return (grey - smooth)[:, 8:32, 8:32].std(axis=(1, 2))


def test_retargeted_fine_detail_no_longer_tells_the_class():
    rng = np.random.default_rng(2)
    n = 256  # same brightness and contrast; "attack" crisp pixel noise, "live" mostly smooth shading
    ys, xs = np.mgrid[0:40, 0:40] / 40.0
    smooth = np.sin(2 * np.pi * (xs[None] * rng.uniform(0.5, 1.5, (n, 1, 1)) + ys[None]))
    smooth += rng.normal(0.0, 0.1, (n, 40, 40))  # a little fine detail to sharpen
    noise = rng.normal(0.0, 0.35, (n, 40, 40)) + 0.5 * np.sin(2 * np.pi * (xs[None] + ys[None]))
    pattern = np.where((np.arange(n) >= n // 2)[:, None, None], noise, smooth)
    images = np.repeat((110.0 + 25.0 * pattern)[..., None], 3, axis=3).astype(np.float32)
    before = _fine_detail(images)
    assert before[n // 2 :].mean() - before[: n // 2].mean() > 1.5 * before.std()  # a large gap
    after = _fine_detail(retarget(tf.constant(images), share=1.0).numpy())
    assert abs(after[: n // 2].mean() - after[n // 2 :].mean()) < 0.35 * after.std()
    assert after.min() > 2.0 and after.max() < 20.0  # within the drawn range, up to clipping


def test_only_real_faces_become_attacks(faces):
    labels = tf.constant([1, 0, 1, 0])
    images, new = synthesise_attacks(faces, labels, real_index=1, attack_index=0, rate=0.999)
    assert new.numpy().tolist() == [0, 0, 0, 0]
    np.testing.assert_array_equal(images.numpy()[[1, 3]], faces.numpy()[[1, 3]])
    assert not np.allclose(images.numpy()[0], faces.numpy()[0])
    _, unchanged = synthesise_attacks(faces, labels, 1, 0, rate=0.0)
    assert unchanged.numpy().tolist() == [1, 0, 1, 0]


def test_fasnet_trains_with_strong_augmentation_and_synthetic_attacks(gathered, tmp_path):
    from liveness.cards import ModelCard, card_path_for
    from liveness.train import train

    result = train(small_fasnet_config(gathered, tmp_path, augment="strong", synthetic_attacks=0.3))
    card = ModelCard.load(card_path_for(result.model_path))
    assert card.architecture == "fasnet" and card.input_size == 64
    assert card.training_data["config"]["synthetic_attacks"] == 0.3
    assert result.model_path.with_suffix(".tflite").stat().st_size < 5_000_000
