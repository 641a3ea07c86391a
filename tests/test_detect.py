import numpy as np
import pytest

from liveness.detect.res10 import Res10Detector, _inside_fraction
from liveness.errors import ModelLoadError
from liveness.io.media import iter_video
from tests.conftest import SHARED_VIDEOS, VIDEOS

# Masked faces (zalo-sample) score 0.3-0.6 with res10, so that clip uses 0.3.
CONFIDENCE = {"zalo-sample/2.mp4": 0.3, "zalo-sample/1.mp4": 0.3}


@pytest.mark.parametrize("rel", [rel for rel, _ in SHARED_VIDEOS])
def test_res10_finds_a_face_in_most_frames_of_each_shared_video(shared, rel):
    detector = Res10Detector(confidence=CONFIDENCE.get(rel, 0.5))
    found = total = 0
    for frame in iter_video(VIDEOS / rel, skip=5):
        faces = detector.detect(frame.image)
        total += 1
        found += bool(faces)
        height, width = frame.image.shape[:2]
        for face in faces:
            assert face.x + face.w <= width and face.y + face.h <= height
            assert face.confidence >= detector.confidence
    assert found / total >= 0.85, f"{rel}: face in {found}/{total} frames"


def test_one_face_per_selfie_frame_no_junk_boxes(shared):
    detector = Res10Detector()
    counts = [len(detector.detect(f.image)) for f in iter_video(VIDEOS / "tranvanluyt2203/real.mp4", 3)]
    assert max(counts) == 1


def test_tight_face_crop_is_found_by_the_padded_retry(face_frame):
    detector = Res10Detector()
    face = detector.detect(face_frame)[0]
    tight = face_frame[face.y : face.y + face.h, face.x : face.x + face.w]
    assert not Res10Detector(pad_retry=False).detect(tight)
    found = detector.detect(tight)
    assert len(found) == 1
    assert found[0].w > 0.6 * tight.shape[1]


def test_no_face_and_grey_images(detector):
    assert detector.detect(np.full((240, 320, 3), 127, np.uint8)) == []
    assert detector.detect(np.full((240, 320), 127, np.uint8)) == []


def test_inside_fraction():
    assert _inside_fraction(0.1, 0.1, 0.5, 0.5) == pytest.approx(1.0)
    assert _inside_fraction(0.5, 0.5, 1.5, 1.5) == pytest.approx(0.25)


def test_bad_detector_folder(tmp_path):
    with pytest.raises(ModelLoadError, match="must hold"):
        Res10Detector(folder=tmp_path)
    (tmp_path / "deploy.prototxt").write_text("not a prototxt")
    (tmp_path / "res10_300x300_ssd_iter_140000.caffemodel").write_bytes(b"junk")
    with pytest.raises(ModelLoadError, match="cannot load"):
        Res10Detector(folder=tmp_path)


def test_detector_folder_with_the_tutorial_file_names(tmp_path):
    from liveness.resources import res10_files

    config, weights = res10_files()
    (tmp_path / "deploy.prototxt").write_bytes(config.read_bytes())
    (tmp_path / weights.name).symlink_to(weights)
    assert Res10Detector(folder=tmp_path).detect(np.full((100, 100, 3), 90, np.uint8)) == []
