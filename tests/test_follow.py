"""A stream's face follower: fewer detector runs, never a box carried onto another face."""

import cv2
import numpy as np
import pytest

from liveness.decide.tracking import iou
from liveness.detect import create_detector
from liveness.detect.follow import FaceFollower
from liveness.io.media import iter_video
from tests.conftest import VIDEOS


@pytest.fixture(scope="module")
def res10_fast():
    return create_detector("res10-fast")


@pytest.fixture(scope="module")
def two_people(shared, res10_fast):
    """A webcam frame, and the same scene with its person gone (grey) and another person's face
    pasted to the right: a swap between two frames."""
    first = next(iter_video(VIDEOS / "lestari15/real.mp4")).image
    first = cv2.resize(first, (640, 427))
    other = next(iter_video(VIDEOS / "tranvanluyt2203/real.mp4")).image
    face, theirs = res10_fast.detect(first)[0], res10_fast.detect(other)[0]
    swapped = first.copy()
    swapped[:, face.x - 40 : face.x + face.w + 40] = 120
    top, left = max(0, theirs.y - 60), max(0, theirs.x - 60)
    patch = other[top : theirs.y + theirs.h + 60, left : theirs.x + theirs.w + 60]
    patch = cv2.resize(patch, (patch.shape[1] * 200 // patch.shape[0], 200))
    swapped[100:300, 640 - patch.shape[1] : 640] = patch
    return first, swapped


def test_a_still_face_is_detected_once_in_every_three_frames_with_fresh_boxes(shared, res10_fast):
    follower = FaceFollower(res10_fast)
    frames = [f.image for f in iter_video(VIDEOS / "lestari15/real.mp4")][:60]
    for image in frames:
        ours, fresh = follower.detect(image), res10_fast.detect(image)
        assert len(ours) == len(fresh) == 1
        assert iou(ours[0], fresh[0]) > 0.85
    assert follower.detections == 20 and follower.kept == 40


def test_a_swap_is_never_followed_onto_the_other_face(two_people, res10_fast):
    first, swapped = two_people
    follower = FaceFollower(res10_fast, every=100)  # only doubt can make it detect again
    for image in [first, first, swapped, swapped, first, swapped, first]:
        ours, fresh = follower.detect(image), res10_fast.detect(image)
        assert len(ours) == len(fresh) == 1
        assert iou(ours[0], fresh[0]) > 0.9, "the box of one face was kept on a frame showing another"
    assert follower.detections == 5 and follower.kept == 2  # every change of face was detected


def test_no_face_several_faces_and_a_new_frame_size_always_detect(two_people, res10_fast):
    first = two_people[0]
    both = np.hstack([first, cv2.flip(first, 1)])  # two faces of one size
    follower = FaceFollower(res10_fast)
    grey = np.full((427, 640, 3), 120, np.uint8)
    for image in [grey, grey, both, both, first, cv2.resize(first, (320, 214))]:
        assert len(follower.detect(image)) == len(res10_fast.detect(image))
    assert follower.detections == 6 and follower.kept == 0


def test_a_checked_clip_detects_a_third_of_its_frames_and_keeps_its_decision(shared):
    from liveness.checker import FrameChecker, check_clip
    from liveness.engine import LivenessEngine

    checker = FrameChecker.build(LivenessEngine.load())
    followed = check_clip(VIDEOS / "lestari15/real.mp4", checker)
    assert followed["decision"] == "live" and followed["frames_read"] >= 20
