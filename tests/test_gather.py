import cv2
import pytest

from liveness.data.gather import GatherOptions, gather
from liveness.data.manifest import read_rows, write_rows
from liveness.errors import ConfigError, InputError
from tests.conftest import REAL_VIDEO, SHARED
from tests.media import faceless_video


def test_gather_video_writes_crops_and_manifest(shared, tmp_path, detector):
    out = tmp_path / "real"
    summary = gather(str(REAL_VIDEO), out, detector, GatherOptions(skip=8, subject="s1", margin=1.5))
    rows = read_rows(out / "manifest.csv")
    assert summary.faces_saved == len(rows) == 14  # 112 frames, every 8th
    row = rows[0]
    assert row["label"] == "real" and row["subject"] == "s1" and row["video_id"] == "lestari15/real"
    assert row["frame"] == "0" and float(row["confidence"]) > 0.9 and row["margin"] == "1.5"
    crop = cv2.imread(str(out / row["path"]))
    assert crop.shape[0] == crop.shape[1] == int(row["crop_w"])
    assert int(row["crop_w"]) == round(1.5 * max(int(row["w"]), int(row["h"])))
    assert row["detector"] == "res10"


def test_the_detector_of_the_crops_reaches_the_trained_model_s_card(shared, tmp_path):
    from liveness.data.datasets import load_samples
    from liveness.detect import create_detector
    from liveness.train import _detector_of

    for name, boxes in (("res10-fast", "res10"), ("blazeface", "blazeface")):
        gather(str(REAL_VIDEO), tmp_path / name, create_detector(name), GatherOptions(skip=40, label="real"))
        assert {r["detector"] for r in read_rows(tmp_path / name / "manifest.csv")} == {boxes}
        samples = load_samples(tmp_path / name / "manifest.csv", require_both_classes=False)
        assert _detector_of(samples) == boxes
    rows = read_rows(tmp_path / "blazeface" / "manifest.csv")
    old = tmp_path / "blazeface" / "old.csv"  # a manifest from before the column: res10 cut those
    write_rows(old, [{k: v for k, v in r.items() if k != "detector"} for r in rows])
    assert _detector_of(load_samples(old, require_both_classes=False)) == "res10"


def test_gather_never_overwrites_unless_asked(shared, tmp_path, detector):
    out = tmp_path / "fake"
    gather(str(REAL_VIDEO), out, detector, GatherOptions(skip=40))
    first = sorted(out.glob("*.png"))[0]
    first.write_bytes(b"user's own file")
    again = gather(str(REAL_VIDEO), out, detector, GatherOptions(skip=40))
    assert again.faces_saved == 0 and again.existing_kept == 3
    assert first.read_bytes() == b"user's own file"
    assert [r["label"] for r in read_rows(out / "manifest.csv")] == ["spoof"] * 3  # fake/ is an attack
    gather(str(REAL_VIDEO), out, detector, GatherOptions(skip=40, overwrite=True))
    assert first.read_bytes() != b"user's own file"


def test_gather_from_dataset_index_splits_into_label_folders(shared, tmp_path, detector):
    index = tmp_path / "index.csv"
    rows = read_rows(SHARED / "data" / "replay-attack" / "index.csv")
    picked = [r for r in rows if r["split"] == "devel"][::600]
    import csv

    with open(index, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in picked:
            writer.writerow({**r, "path": str(SHARED / "data" / "replay-attack" / r["path"])})
    out = tmp_path / "ra"
    gather(str(index), out, detector, GatherOptions(split="devel"))
    got = read_rows(out / "manifest.csv")
    assert len(got) == len(picked)
    assert {r["path"].split("/")[0] for r in got} == {r["label"] for r in picked}
    assert got[0]["path"].endswith(f"{got[0]['video_id']}_frame_00000.png")
    assert all(
        r["subject"].startswith("client") and r["attack_medium"] in ("none", "print", "mobile", "highdef")
        for r in got
    )


def test_gather_image_folder_with_a_corrupt_file(shared, tmp_path, detector, face_frame):
    folder = tmp_path / "images"
    folder.mkdir()
    cv2.imwrite(str(folder / "face.jpg"), face_frame)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    summary = gather(str(folder), tmp_path / "out", detector, GatherOptions(skip=1, label="real"))
    assert summary.faces_saved == 1 and summary.unreadable == 1
    assert "1 unreadable files skipped" in summary.describe()
    assert (tmp_path / "out" / "face.png").is_file()


def test_gather_video_without_faces_is_a_clear_error(tmp_path, detector):
    video = faceless_video(tmp_path / "empty_room.mp4")
    with pytest.raises(InputError, match="no face found"):
        gather(str(video), tmp_path / "out", detector, GatherOptions(skip=1))
    assert not list((tmp_path / "out").glob("*.png"))


def test_gather_bad_options_and_inputs(tmp_path, detector):
    with pytest.raises(ConfigError):
        GatherOptions(skip=0)
    with pytest.raises(ConfigError):
        GatherOptions(margin=0.5)
    with pytest.raises(InputError, match="not found"):
        gather(str(tmp_path / "nope.mp4"), tmp_path / "o", detector, GatherOptions())
    (tmp_path / "notes.txt").write_text("not a video")
    with pytest.raises(InputError, match="not an image or a video"):
        gather(str(tmp_path / "notes.txt"), tmp_path / "o", detector, GatherOptions())
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())  # nothing written
