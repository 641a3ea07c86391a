import numpy as np
import pytest

from liveness.detect import create_detector
from liveness.detect.blazeface import FULL, SHORT, anchor_centres
from liveness.io.media import iter_video
from tests.conftest import SHARED_VIDEOS, VIDEOS


def test_anchor_grids_match_the_models():
    assert anchor_centres(SHORT).shape == (896, 2)
    assert anchor_centres(FULL).shape == (2304, 2)
    first = anchor_centres(SHORT)[:3]
    np.testing.assert_allclose(first, [[0.5 / 16, 0.5 / 16]] * 2 + [[1.5 / 16, 0.5 / 16]])


def _iou(a, b) -> float:
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    return ix * iy / (a.area + b.area - ix * iy)


@pytest.mark.parametrize("name", ["blazeface", "blazeface-full"])
def test_blazeface_finds_the_faces_res10_finds(shared, name):
    blaze, res10 = create_detector(name), create_detector("res10")
    both = agree = only_res10 = 0
    for rel, _ in SHARED_VIDEOS:
        for frame in iter_video(VIDEOS / rel, skip=10):
            ours, ref = blaze.detect(frame.image), res10.detect(frame.image)
            if ref and not ours:
                only_res10 += 1
            if ref and ours:
                both += 1
                agree += _iou(ours[0], ref[0]) > 0.4
    assert both >= 100
    assert agree / both >= 0.95 and only_res10 <= 2


def test_blazeface_on_empty_and_grey_frames():
    detector = create_detector("blazeface")
    assert detector.detect(np.zeros((480, 640, 3), np.uint8)) == []
    assert detector.detect(np.full((100, 60), 128, np.uint8)) == []
