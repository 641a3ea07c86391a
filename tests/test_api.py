"""The Python API (`from liveness import LivenessChecker`) on real photos and clips."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from liveness.errors import InputError
from liveness.io.media import iter_video
from tests.conftest import FAKE_VIDEO, REAL_VIDEO, REPO, run_cli

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def checker(shared):
    from liveness import LivenessChecker

    return LivenessChecker()


@pytest.fixture(scope="module")
def frame(shared) -> np.ndarray:
    return next(iter(iter_video(REAL_VIDEO, skip=30))).image


def test_a_photo_gets_the_answer_the_cli_prints(checker, frame, tmp_path):
    path = tmp_path / "face.png"
    cv2.imwrite(str(path), frame)
    from_path, from_array = checker.check_image(path), checker.check_image(frame)
    assert from_path == from_array
    assert from_path.decision in ("live", "attack") and from_path.faces
    face = from_path.faces[0]
    x, y, w, h = face.box
    assert w > 100 and h > 100 and x + w <= frame.shape[1] and y + h <= frame.shape[0]
    assert from_path.score == pytest.approx(face.score, abs=1e-4)
    assert from_path.is_live == (from_path.score >= from_path.threshold)
    printed = run_cli("check", str(path))
    assert json.loads(printed.stdout) == from_path.to_dict()


def test_grey_and_bgra_arrays_are_checked_and_other_arrays_refused(checker, frame):
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    assert checker.check_image(grey).faces
    assert checker.check_image(cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA)).faces
    blank = checker.check_image(np.zeros((240, 320, 3), np.uint8))
    assert blank.decision == "uncertain" and blank.score is None and not blank.faces
    for bad in (
        frame.astype(np.float32),
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((9, 9, 2), np.uint8),
        "x.jpg",
    ):
        with pytest.raises(InputError):
            checker.check_image(bad)


def test_clips_are_judged_by_the_streamed_checks_rules(checker):
    real = checker.check_video(REAL_VIDEO)
    assert real.decision == "live" and real.details["frames"] >= 5 and real.details["seconds"] <= 3.0
    fake = checker.check_video(FAKE_VIDEO)
    assert fake.decision != "live"
    assert real.to_dict()["decision"] == "live" and real.to_dict()["model"] == "livenessnet_x3"


def test_the_readme_example_runs_as_written(shared, tmp_path, frame):
    """The README's API section, run in a fresh interpreter in a folder holding face.jpg and selfie.mp4."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    cv2.imwrite(str(tmp_path / "face.jpg"), frame)
    (tmp_path / "selfie.mp4").symlink_to(REAL_VIDEO)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "live"  # decision, reason, score: a real face
    cv2.imwrite(str(tmp_path / "face.jpg"), np.full((480, 640, 3), 128, np.uint8))  # no face in it
    blank = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert blank.returncode == 0, blank.stderr[-2000:]
    assert blank.stdout.split()[:4] == ["uncertain", "no", "face", "found"]
