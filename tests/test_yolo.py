"""YOLO-format datasets and the multi-source corpus, on real frames (NUAA) boxed by the real detector."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from liveness.data.corpus import Candidate, CorpusBuilder, evenly
from liveness.data.datasets import load_images, load_samples
from liveness.data.yolo import class_names, file_sha256, label_mapping, read_yolo_dataset
from liveness.errors import DatasetError
from liveness.evaluate.dataset import load_eval_set
from tests.conftest import run_cli


def _nuaa_rows(shared: Path, n: int) -> list[dict[str, str]]:
    with open(shared / "data" / "nuaa" / "index.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    real = [r for r in rows if r["label"] == "real"][::50][:n]
    spoof = [r for r in rows if r["label"] == "spoof"][::80][:n]
    return real + spoof


def _yolo_line(cls: int, box: tuple[int, int, int, int], width: int, height: int) -> str:
    x, y, w, h = box
    return f"{cls} {(x + w / 2) / width:.6f} {(y + h / 2) / height:.6f} {w / width:.6f} {h / height:.6f}\n"


@pytest.fixture(scope="module")
def yolo_dataset(shared: Path, detector, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tutorial-style YOLO dataset: names [fake, real], frames in Real/ and Fake/, each copied
    again into SplitData/ (as the tutorial does), one empty label file, one frame with two boxes."""
    import cv2

    root = tmp_path_factory.mktemp("yolo") / "Dataset"
    (root / "SplitData" / "train" / "images").mkdir(parents=True)
    (root / "SplitData" / "train" / "labels").mkdir(parents=True)
    (root / "SplitData" / "data.yaml").write_text("nc: 2\nnames: ['fake', 'real']\n")
    for row in _nuaa_rows(shared, 6):
        image = cv2.imread(str(shared / "data" / "nuaa" / row["path"]))
        face = detector.detect(image)[0]
        folder = root / ("Real" if row["label"] == "real" else "Fake")
        folder.mkdir(exist_ok=True)
        name = Path(row["path"]).stem
        shutil.copy(shared / "data" / "nuaa" / row["path"], folder / f"{name}.jpg")
        line = _yolo_line(1 if row["label"] == "real" else 0, face.box, image.shape[1], image.shape[0])
        (folder / f"{name}.txt").write_text(line)
        shutil.copy(folder / f"{name}.jpg", root / "SplitData" / "train" / "images" / f"{name}.jpg")
        (root / "SplitData" / "train" / "labels" / f"{name}.txt").write_text(line)
    first_real = sorted((root / "Real").glob("*.jpg"))[0]
    first_fake = sorted((root / "Fake").glob("*.jpg"))[0]
    first_real.with_suffix(".txt").write_text("")  # empty: no label, in both copies
    (root / "SplitData" / "train" / "labels" / f"{first_real.stem}.txt").write_text("")
    first_fake.with_suffix(".txt").write_text(first_fake.with_suffix(".txt").read_text() * 2)
    return root


@pytest.mark.shared
def test_yolo_dataset_reads_labels_from_yaml_and_drops_copies(yolo_dataset: Path):
    images = read_yolo_dataset(yolo_dataset)
    assert len(images) == 11  # 12 distinct frames, one with an empty label file; copies dropped
    assert {i.label for i in images if "Real" in i.path.parts} == {"real"}
    assert {i.label for i in images if "Fake" in i.path.parts} == {"spoof"}
    assert sum(len(i.boxes) == 2 for i in images) == 1


@pytest.mark.shared
def test_yolo_class_order_comes_from_the_yaml(yolo_dataset: Path, tmp_path: Path):
    flipped = tmp_path / "flipped"
    shutil.copytree(yolo_dataset, flipped)
    (flipped / "SplitData" / "data.yaml").write_text("names: {0: real, 1: fake}\n")
    labels = {i.path.name: i.label for i in read_yolo_dataset(flipped)}
    original = {i.path.name: i.label for i in read_yolo_dataset(yolo_dataset)}
    assert labels and all(labels[k] != original[k] for k in labels)


@pytest.mark.shared
def test_yolo_training_samples_carry_box_and_group(yolo_dataset: Path):
    samples = load_samples(yolo_dataset)
    assert len(samples) == 10  # the two-box frame is ambiguous and left out
    assert {s.subject for s in samples} == {"Dataset"}
    assert all(s.box is not None and s.box[2] > 40 for s in samples)
    tight, _ = load_images(samples[:2], 64, 1.0)
    wide, _ = load_images(samples[:2], 64, 2.0)
    assert tight.shape == (2, 64, 64, 3)
    assert not np.array_equal(tight, wide)  # the context changes what the model sees


@pytest.mark.shared
def test_yolo_dataset_evaluates_on_its_boxes(yolo_dataset: Path):
    samples = load_eval_set(yolo_dataset)
    assert len(samples) == 10
    assert sum(s.is_real for s in samples) == 5
    assert all(s.box is not None for s in samples)


def test_class_names_must_be_a_real_fake_pair(tmp_path: Path):
    with pytest.raises(DatasetError, match="not a real/fake pair"):
        label_mapping(["cat", "dog"], "pets")
    (tmp_path / "a.yaml").write_text("names: [fake, real]\n")
    (tmp_path / "b.yaml").write_text("names: [real, fake]\n")
    with pytest.raises(DatasetError, match="disagree on the class order"):
        class_names(tmp_path)


@pytest.mark.shared
def test_train_refuses_a_yaml_that_is_not_real_fake(yolo_dataset: Path, tmp_path: Path):
    pets = tmp_path / "pets"
    shutil.copytree(yolo_dataset, pets)
    (pets / "SplitData" / "data.yaml").write_text("names: [cat, dog]\n")
    result = run_cli("train", "--dataset", str(pets), "--model", str(tmp_path / "m.keras"))
    assert result.returncode == 2
    assert "not a real/fake pair" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.shared
@pytest.mark.slow
def test_gather_and_distributed_training_on_a_yolo_dataset(yolo_dataset: Path, tmp_path: Path):
    gathered = tmp_path / "faces"
    result = run_cli("gather", "--input", str(yolo_dataset), "--output", str(gathered), "--skip", "1")
    assert result.returncode == 0, result.stderr
    assert len(list((gathered / "real").glob("*.png"))) == 5
    assert len(list((gathered / "spoof").glob("*.png"))) == 5
    result = run_cli(
        "train", "--dataset", str(yolo_dataset), "--arch", "fasnet", "--input-size", "32",
        "--crop-scale", "1.5", "--epochs", "1", "--batch-size", "4", "--distribute", "mirrored",
        "--model", str(tmp_path / "m.keras"), "--plot", str(tmp_path / "p.png"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "mirrored training on /device:CPU:0, /device:CPU:1" in result.stderr
    card = (tmp_path / "m.card.json").read_text()
    assert '"crop_scale": 1.5' in card


@pytest.mark.shared
def test_corpus_drops_held_out_and_duplicate_files_and_says_why(shared: Path, detector, tmp_path: Path):
    rows = _nuaa_rows(shared, 4)
    paths = [shared / "data" / "nuaa" / r["path"] for r in rows]
    heldout = {file_sha256(paths[0])}
    builder = CorpusBuilder(detector, heldout, cap_per_class=None)
    first = [Candidate(p, r["label"], "nuaa:" + r["subject"]) for p, r in zip(paths, rows, strict=True)]
    table = builder.add_source("nuaa", "frames", first)
    assert table.skipped["held out for judging"] == 1
    assert table.real + table.spoof == len(paths) - 1
    copy = tmp_path / "copy.jpg"
    shutil.copy(paths[1], copy)
    unseen = shared / "data" / "nuaa" / _nuaa_rows(shared, 6)[5]["path"]
    far_box = ((0.02, 0.02, 0.02, 0.02),)  # a label box where no face is
    second = [
        Candidate(copy, "real", "other"),
        Candidate(paths[2], "real", "other"),
        Candidate(unseen, "real", "other", yolo_boxes=far_box),
    ]
    table = builder.add_source("other", "yolo", second)
    assert table.skipped["duplicate of an earlier file"] == 2  # a copy, and a file of the first source
    assert table.skipped["no detected face on the labelled box"] == 1
    assert table.real + table.spoof == 0
    assert {r["source_name"] for r in builder.rows} == {"nuaa"}
    assert all(r["box_from"] == "detector" for r in builder.rows)


def test_evenly_spreads_a_cap_over_the_list():
    assert evenly(list(range(10)), 3) == [0, 4, 9]  # first, middle and last, in time order
    assert evenly([1, 2], 5) == [1, 2]
