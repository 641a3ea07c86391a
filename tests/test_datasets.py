from pathlib import Path

import cv2
import numpy as np
import pytest

from liveness.data.datasets import Sample, group_folds, load_images, load_samples, split_samples
from liveness.errors import DatasetError


def _folder(tmp_path: Path, layout: dict[str, int]) -> Path:
    for label, n in layout.items():
        (tmp_path / label).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            cv2.imwrite(str(tmp_path / label / f"{i}.png"), np.full((20, 20, 3), i * 10, np.uint8))
    return tmp_path


def test_class_folders_and_aliases(tmp_path):
    samples = load_samples(_folder(tmp_path, {"live": 3, "attack": 2}))
    assert sorted({s.label for s in samples}) == ["real", "spoof"]


def test_empty_and_one_class_sets_are_refused(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        load_samples(tmp_path / "missing")
    with pytest.raises(DatasetError, match="no class subfolders"):
        load_samples(tmp_path)
    with pytest.raises(DatasetError, match="only one class"):
        load_samples(_folder(tmp_path / "one", {"real": 3}))
    (tmp_path / "e" / "real").mkdir(parents=True)
    (tmp_path / "e" / "fake").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        load_samples(tmp_path / "e")


def test_manifest_errors(tmp_path):
    (tmp_path / "m.csv").write_text("file,kind\na.png,real\n")
    with pytest.raises(DatasetError, match="'path' and 'label'"):
        load_samples(tmp_path / "m.csv")
    (tmp_path / "n.csv").write_text("path,label\na.png,\n")
    with pytest.raises(DatasetError, match="no label"):
        load_samples(tmp_path / "n.csv")


def _samples(spec: list[tuple[str, str, str]], frames: int = 4) -> list[Sample]:
    return [
        Sample(Path(f"{v}_{i}.png"), label, subject, v, i)
        for subject, v, label in spec
        for i in range(frames)
    ]


def test_split_is_subject_disjoint_and_keeps_both_classes():
    spec = [
        (f"s{s}", f"s{s}_{k}", label) for s in range(8) for k, label in enumerate(["real", "spoof", "spoof"])
    ]
    samples = _samples(spec)
    split = split_samples(samples, 0.25, seed=1)
    assert split.how == "subject-disjoint"
    train_subjects = {samples[i].subject for i in split.train}
    val_subjects = {samples[i].subject for i in split.val}
    assert not train_subjects & val_subjects
    assert {samples[i].label for i in split.val} == {"real", "spoof"}
    assert split == split_samples(samples, 0.25, seed=1)  # reproducible


def test_folds_hold_whole_groups_and_every_face_once():
    spec = [
        (f"s{s}", f"s{s}_{k}", label) for s in range(9) for k, label in enumerate(["real", "spoof", "spoof"])
    ]
    samples = _samples(spec)
    folds, how = group_folds(samples, k=4, seed=3)
    assert how == "4 subject folds" and sorted(i for f in folds for i in f) == list(range(len(samples)))
    subjects = [{samples[i].subject for i in f} for f in folds]
    assert all(not a & b for n, a in enumerate(subjects) for b in subjects[n + 1 :])
    assert all({samples[i].label for i in f} == {"real", "spoof"} for f in folds)
    assert max(map(len, folds)) - min(map(len, folds)) <= 12  # one subject's faces at most
    assert group_folds(samples, k=4, seed=3) == (folds, how)  # reproducible
    one = _samples([("s0", "r1", "real"), ("s0", "f1", "spoof")])
    assert group_folds(one) is None  # a single group cannot score itself out of fold


def test_split_falls_back_to_videos_then_time():
    videos = _samples([("", "r1", "real"), ("", "r2", "real"), ("", "f1", "spoof"), ("", "f2", "spoof")])
    assert split_samples(videos).how == "video_id-disjoint"
    two = _samples([("", "r1", "real"), ("", "f1", "spoof")], frames=8)
    split = split_samples(two, 0.25)
    assert split.how.startswith("temporal")
    for video in ("r1", "f1"):
        train = [two[i].frame for i in split.train if two[i].video_id == video]
        val = [two[i].frame for i in split.val if two[i].video_id == video]
        assert max(train) < min(val)  # validation frames come after training frames


def test_load_images_skips_corrupt_files(tmp_path, caplog):
    root = _folder(tmp_path, {"real": 2, "fake": 2})
    (root / "fake" / "bad.png").write_bytes(b"corrupt")
    samples = load_samples(root)
    images, kept = load_images(samples, 16)
    assert images.shape == (4, 16, 16, 3) and len(kept) == 4
    assert "bad.png" in caplog.text


def test_several_datasets_train_together_without_id_collisions(tmp_path):
    from liveness.data.datasets import load_many

    one = _folder(tmp_path / "a", {"real": 2, "fake": 2})
    two = _folder(tmp_path / "b", {"real": 1, "spoof": 1})
    samples = load_many([one, two])
    assert len(samples) == 6
    assert sorted({s.label for s in samples}) == ["real", "spoof"]
    assert len({s.subject for s in samples}) == 1  # no subjects known: nothing invented


def test_a_live_faces_only_set_joins_a_two_class_set_but_never_trains_alone(tmp_path):
    from liveness.data.datasets import load_many

    attacks = _folder(tmp_path / "a", {"real": 2, "fake": 2})
    my_camera = _folder(tmp_path / "mine", {"real": 3})
    samples = load_many([attacks, my_camera])
    assert [s.label for s in samples].count("real") == 5
    with pytest.raises(DatasetError, match="only one class"):
        load_many([my_camera, _folder(tmp_path / "more", {"live": 2})])


def test_balanced_rows_give_every_dataset_the_same_weight(tmp_path):
    pytest.importorskip("tensorflow")
    from liveness.data.datasets import load_many
    from liveness.train import balanced_rows

    samples = load_many(
        [_folder(tmp_path / "big", {"real": 5, "fake": 5}), _folder(tmp_path / "small", {"real": 3})]
    )
    domains = np.array([s.domain for s in samples])
    assert np.bincount(domains).tolist() == [10, 3]
    rows = balanced_rows(list(range(len(samples))), domains, seed=0)
    assert np.bincount(domains[rows]).tolist() == [10, 10]
    small = [r for r in rows if domains[r] == 1]
    assert (
        set(small) == {10, 11, 12}
        and max(small.count(r) for r in small) - min(small.count(r) for r in small) <= 1
    )
    assert sorted(r for r in rows if domains[r] == 0) == list(range(10))  # the largest is left as it is
