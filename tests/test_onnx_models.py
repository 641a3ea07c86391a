"""Published ONNX face-PAD models through the engine: `liveness import-onnx`, then --model anywhere."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liveness.cards import ModelCard
from liveness.engine import LivenessEngine
from liveness.errors import ModelLoadError
from liveness.evaluate.scorers import CelebAMiniFASNetScorer, MiniFASNetScorer
from liveness.io.media import read_image
from tests.conftest import REAL_VIDEO, replay_subset, run_cli

pytestmark = pytest.mark.shared
ort = pytest.importorskip("onnxruntime")

CELEBA = str.split(
    "--input-size 128 --crop-scale 1.5 --crop-rule square-reflect --resize lanczos "
    "--color-order RGB --input-range 0-1 --layout NCHW --real-index 0"
)
SILENT_FACE = str.split(
    "--input-size 80 --crop-scale 2.7 4.0 --crop-rule silentface --resize linear "
    "--color-order BGR --input-range 0-255 --real-index 1"
)


def _devel_frames(shared, n: int = 8) -> list[np.ndarray]:
    root = shared / "data" / "replay-attack" / "devel"
    folders = sorted(root.glob("devel__real*"))[: n // 2] + sorted(root.glob("devel__attack*"))[: n // 2]
    return [read_image(folder / "frame_00000.jpg") for folder in folders]


@pytest.fixture(scope="module")
def imported(shared, tmp_path_factory):
    """The CelebA-Spoof MiniFASNet and the Silent-Face pair, imported by the command a user runs."""
    out = tmp_path_factory.mktemp("imported")
    models = shared / "models"
    celeba = run_cli("import-onnx", str(models / "celeba-minifasnet" / "best_model.onnx"), *CELEBA,
                     "--name", "celeba", "--output", str(out))  # fmt: skip
    assert celeba.returncode == 0, celeba.stderr[-2000:]
    pair = [str(models / "minifasnet" / n) for n in ("MiniFASNetV2.onnx", "MiniFASNetV1SE.onnx")]
    silent = run_cli("import-onnx", *pair, *SILENT_FACE, "--name", "silentface", "--output", str(out))
    assert silent.returncode == 0, silent.stderr[-2000:]
    return out


def test_the_card_records_every_convention_and_file(imported, shared):
    card = ModelCard.load(imported / "celeba.card.json")
    assert (card.input_size, card.crop_scale, card.crop_rule, card.resize) == (
        128,
        1.5,
        "square-reflect",
        "lanczos",
    )
    assert (card.layout, card.input_range, card.color_order, card.outputs) == ("NCHW", "0-1", "RGB", "logits")
    assert card.class_names[card.real_index] == "real" and card.real_index == 0
    original = shared / "models" / "celeba-minifasnet" / "best_model.onnx"
    assert card.files == {"celeba.onnx": "c7752c4c6315e7779fc6f3124e8d352e7583b0a55bcd1497a4162b0a54150c2c"}
    assert card.training_data["original_files"] == {str(original.resolve()): card.files["celeba.onnx"]}
    assert card.threshold == 0.5 and "calibrate" in card.threshold_source
    pair = ModelCard.load(imported / "silentface.card.json")
    assert pair.members == ("silentface.member0", "silentface.member1")
    assert (
        pair.member_crop_scales == (2.7, 4.0) and pair.class_names[1] == "real" and pair.outputs == "logits"
    )


def test_the_engine_scores_like_each_models_own_code(imported, shared, detector):
    """The same faces through the engine and through the reference scorers written from the models'
    own conventions: the Silent-Face pair agrees to float precision; the CelebA model to within its
    letterbox quirk (int(side * 128 / side) is 127 for some sides, and the repo pads the missing row)."""
    celeba = LivenessEngine.load(imported / "celeba.card.json", detector=detector)
    pair = LivenessEngine.load(imported / "silentface.card.json", detector=detector)
    assert celeba.backend.name == "onnx" and pair.backend.name == "onnx x2"
    own_celeba = CelebAMiniFASNetScorer(shared / "models" / "celeba-minifasnet")
    own_pair = MiniFASNetScorer(shared / "models" / "minifasnet")
    ours, theirs = [], []
    for frame in _devel_frames(shared):
        faces = detector.detect(frame)[:1]
        ours.append([celeba.score_faces(frame, faces)[0].score, pair.score_faces(frame, faces)[0].score])
        theirs.append([own_celeba.score(frame, faces)[0], own_pair.score(frame, faces)[0]])
    ours, theirs = np.array(ours), np.array(theirs)
    assert np.abs(ours[:, 1] - theirs[:, 1]).max() < 1e-5
    assert np.abs(ours[:, 0] - theirs[:, 0]).mean() < 0.01 and np.abs(ours[:, 0] - theirs[:, 0]).max() < 0.1
    assert ours[:4, 1].mean() > ours[4:, 1].mean()  # real frames above attacks, as the pair should rank them


def test_check_and_evaluate_take_the_imported_card(imported, tmp_path):
    frame = tmp_path / "frame.png"
    import cv2

    from liveness.io.media import iter_video

    cv2.imwrite(str(frame), next(iter(iter_video(REAL_VIDEO, skip=30))).image)
    check = run_cli("check", str(frame), "--model", str(imported / "celeba.card.json"))
    answer = json.loads(check.stdout)
    assert answer["model"] == "celeba" and answer["faces"]
    assert answer["decision"] == ("live" if answer["score"] >= answer["threshold"] else "attack")
    assert check.returncode == {"live": 0, "attack": 1}[answer["decision"]], check.stderr[-2000:]
    report = tmp_path / "report"
    dataset = replay_subset(tmp_path, every=150)
    run = run_cli("evaluate", "--model", str(imported / "silentface.card.json"),
                  "--dataset", str(dataset), "--report-dir", str(report))  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    frame_level = json.loads((report / "report.json").read_text())["frame_level"]
    assert frame_level["auc"] > 0.7  # the pair ranks Replay-Attack devel faces well (AUC ~0.9 on all)


def test_wrong_conventions_are_refused_before_anything_is_written(shared, tmp_path):
    model = str(shared / "models" / "celeba-minifasnet" / "best_model.onnx")
    wrong_size = run_cli("import-onnx", model, "--input-size", "112", "--output", str(tmp_path / "a"))
    assert wrong_size.returncode == 2 and "expects inputs of shape" in wrong_size.stderr
    assert not (tmp_path / "a").exists()
    wrong_layout = run_cli("import-onnx", model, "--input-size", "128", "--layout", "NHWC",
                           "--output", str(tmp_path / "b"))  # fmt: skip
    assert wrong_layout.returncode == 2 and not (tmp_path / "b").exists()
    bad_index = run_cli("import-onnx", model, "--input-size", "128", "--real-index", "2",
                        "--output", str(tmp_path / "c"))  # fmt: skip
    assert bad_index.returncode == 2 and "2 outputs" in bad_index.stderr
    first = run_cli("import-onnx", model, "--input-size", "128", "--output", str(tmp_path / "d"))
    assert first.returncode == 0, first.stderr[-2000:]
    again = run_cli("import-onnx", model, "--input-size", "128", "--output", str(tmp_path / "d"))
    assert again.returncode == 2 and "--overwrite" in again.stderr


def test_a_changed_model_file_is_refused(imported, tmp_path):
    import shutil

    for name in ("celeba.card.json", "celeba.onnx"):
        shutil.copyfile(imported / name, tmp_path / name)
    with open(tmp_path / "celeba.onnx", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelLoadError, match="sha256"):
        LivenessEngine.load(tmp_path / "celeba.card.json")


def test_cards_refuse_unknown_conventions():
    base = {"name": "m", "architecture": "a", "input_size": 32, "class_names": ["real", "spoof"]}
    for bad in ({"layout": "CHWN"}, {"outputs": "scores"}, {"crop_rule": "circle"}, {"resize": "cubic"},
                {"input_range": "-1-1"}, {"members": ["a", "b"], "member_crop_scales": [2.0]},
                {"member_crop_scales": ["x"]}):  # fmt: skip
        with pytest.raises(ModelLoadError):
            ModelCard.from_dict({**base, **bad})
    assert ModelCard.from_dict({**base, "input_range": "0-1"}).pixel_scale == pytest.approx(1 / 255)
