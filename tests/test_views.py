"""Teacher views: the frame augmentation, the bank file, and what training asks of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liveness.data.views import Views, load_views, random_view, save_views
from liveness.errors import ConfigError, DatasetError
from liveness.train import TrainConfig


def test_a_view_keeps_the_face_box_inside_the_frame_and_changes_the_pixels(face_frame: np.ndarray):
    height, width = face_frame.shape[:2]
    box = (width - 200, height - 220, 190, 210)  # a face at the frame's corner
    rng = np.random.default_rng(0)
    changed = 0
    for _ in range(40):
        view, (x, y, w, h) = random_view(face_frame, box, rng)
        assert view.shape == face_frame.shape and view.dtype == np.uint8
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height and w >= 8 and h >= 8
        assert 0.8 * 190 <= w <= 1.25 * 190
        changed += int(np.abs(view.astype(int) - face_frame).mean() > 1.0)
    assert changed >= 30


def test_a_mirrored_view_mirrors_the_box():
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[20:60, 10:50] = 255  # a white "face" on the left
    for seed in range(30):
        view, (x, y, w, h) = random_view(frame, (10, 20, 40, 40), np.random.default_rng(seed))
        inside = view[y : y + h, x : x + w].mean()
        assert inside > view.mean() + 20, f"seed {seed}: the box left the face"


def test_a_bank_reads_back_and_names_a_face_it_lacks(tmp_path: Path):
    images = np.random.default_rng(0).integers(0, 255, (3, 2, 8, 8, 3), dtype=np.uint8)
    teacher = np.array([[0.1, 0.2], [0.5, 0.6], [0.9, 0.8]], np.float32)
    paths = [str(tmp_path / f"{i}.png") for i in range(3)]
    path = tmp_path / "bank.npz"
    save_views(path, Views(paths, images, teacher, 1.5, 8), {"a": teacher}, {"views": 2})
    bank = load_views(path)
    assert bank.paths == paths and (bank.images == images).all() and bank.crop_scale == 1.5
    assert list(bank.rows_for([paths[2], paths[0]])) == [2, 0]
    with pytest.raises(DatasetError, match=r"no face .*missing\.png"):
        bank.rows_for([str(tmp_path / "missing.png")])


def test_a_bank_holding_pickled_objects_is_refused(tmp_path: Path):
    path = tmp_path / "evil.npz"
    np.savez(path, paths=np.array([object()], dtype=object), images=np.zeros(1), meta=np.array("{}"))
    with pytest.raises(DatasetError, match="not a teacher-views bank"):
        load_views(path)
    (tmp_path / "text.npz").write_text("not a bank")
    with pytest.raises(DatasetError, match="not a teacher-views bank"):
        load_views(tmp_path / "text.npz")


def test_views_and_cached_teacher_scores_are_one_or_the_other():
    with pytest.raises(ConfigError, match="not both"):
        TrainConfig(dataset="d", teacher_views="bank.npz", teacher_scores="t.csv")
