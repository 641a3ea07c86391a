import numpy as np
import pytest

from liveness.preprocess import clip_box, ensure_bgr, expand_box, face_crop, to_model_input


def test_expand_box_centred_square():
    assert expand_box((40, 40, 20, 20), 2.0, 200, 200) == (30, 30, 40, 40)
    assert expand_box((40, 40, 20, 10), 1.0, 200, 200) == (40, 35, 20, 20)


def test_expand_box_is_shifted_inside_not_clipped():
    x, y, w, h = expand_box((0, 0, 20, 20), 2.0, 200, 200)
    assert (x, y, w, h) == (0, 0, 40, 40)
    x, y, w, h = expand_box((190, 185, 10, 15), 2.0, 200, 200)
    assert (w, h) == (30, 30) and x + w == 200 and y + h == 200


def test_expand_box_shrinks_to_the_frame():
    assert expand_box((10, 10, 80, 80), 4.0, 100, 60) == (20, 0, 60, 60)


def test_clip_box():
    assert clip_box(-5, -5, 10, 10, 8, 8) == (0, 0, 8, 8)
    assert clip_box(20, 20, 30, 30, 10, 10) is None


def test_model_input_is_rgb_float():
    bgr = np.zeros((50, 50, 3), np.uint8)
    bgr[..., 0] = 255  # blue
    batch = to_model_input([bgr, face_crop(bgr, (10, 10, 20, 20), 1.5)], 16)
    assert batch.shape == (2, 16, 16, 3) and batch.dtype == np.float32
    assert batch[0, 0, 0].tolist() == [0.0, 0.0, 255.0]


def test_ensure_bgr():
    assert ensure_bgr(np.zeros((4, 4), np.uint8)).shape == (4, 4, 3)
    assert ensure_bgr(np.zeros((4, 4, 4), np.uint8)).shape == (4, 4, 3)
    with pytest.raises(ValueError):
        ensure_bgr(np.zeros((4, 4, 2), np.uint8))
