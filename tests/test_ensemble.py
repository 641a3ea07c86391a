import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from liveness.calibrate import Calibration, write_calibrated
from liveness.cards import ModelCard, card_path_for
from liveness.engine import LivenessEngine
from liveness.ensemble import make_ensemble
from liveness.errors import InputError, ModelLoadError
from liveness.resources import DEFAULT_MODEL
from tests.conftest import FAKE_VIDEO, REAL_VIDEO, REPO, run_cli


@pytest.fixture(scope="module")
def second_model(gathered, tmp_path_factory):
    """The recipe of `trained_model` trained again with another seed: a second ensemble member."""
    from liveness.train import TrainConfig, train

    out = tmp_path_factory.mktemp("seed2")
    config = TrainConfig(dataset=str(gathered), model=str(out / "m.keras"), plot=None, epochs=3, seed=2)
    return train(config).model_path


def _faces(detector):
    import cv2

    frames = []
    for video in (REAL_VIDEO, FAKE_VIDEO):
        frame = cv2.VideoCapture(str(video)).read()[1]
        frames.append((frame, detector.detect(frame)[:1]))
    return frames


def test_an_ensemble_scores_the_mean_of_its_members(trained_model, second_model, detector, tmp_path):
    card_file = run_cli("ensemble", "--model", str(trained_model), str(second_model), "-o", str(tmp_path))
    assert card_file.returncode == 0, card_file.stderr
    ensemble = LivenessEngine.load(tmp_path / "ensemble.card.json", detector=detector)
    members = [LivenessEngine.load(m, detector=detector) for m in (trained_model, second_model)]
    assert ensemble.backend.name == "litert x2"
    assert ensemble.threshold == pytest.approx(np.mean([m.threshold for m in members]))
    for frame, faces in _faces(detector):
        scores = [m.score_faces(frame, faces)[0].score for m in members]
        assert abs(scores[0] - scores[1]) > 1e-4  # two seeds, two models
        assert ensemble.score_faces(frame, faces)[0].score == pytest.approx(np.mean(scores), abs=1e-5)
    card = ModelCard.load(tmp_path / "ensemble.card.json")
    assert card.members == ("ensemble.member0", "ensemble.member1")
    assert set(card.files) == {"ensemble.member0.tflite", "ensemble.member1.tflite"}  # what runs


def test_a_calibrated_ensemble_keeps_its_members(trained_model, second_model, detector, tmp_path):
    card = make_ensemble([trained_model, second_model], tmp_path / "ens")
    calibration = Calibration(0.25, 0.05, 200, 0, 0.5, 0.1, ["live.mp4"])
    copy = write_calibrated(card, calibration, tmp_path / "calibrated")
    engine = LivenessEngine.load(copy, detector=detector)
    assert engine.threshold == 0.25 and len(engine.backend.members) == 2


def test_members_must_agree_and_files_must_match(trained_model, second_model, tmp_path):
    with pytest.raises(InputError, match="at least two"):
        make_ensemble([trained_model], tmp_path / "one")
    with pytest.raises(InputError, match="plain file name"):
        make_ensemble([trained_model, second_model], tmp_path / "bad", name="../escape")
    relabelled = tmp_path / "relabelled"
    relabelled.mkdir()
    for path in trained_model.parent.glob(trained_model.stem + ".*"):
        shutil.copy(path, relabelled / path.name)
    card_file = card_path_for(relabelled / trained_model.name)
    card_file.write_text(json.dumps({**json.loads(card_file.read_text()), "class_names": ["attack", "real"]}))
    with pytest.raises(ModelLoadError, match="differ in class_names"):
        make_ensemble([trained_model, card_file], tmp_path / "mixed")
    with pytest.raises(ModelLoadError, match="itself an ensemble"):
        make_ensemble([trained_model, DEFAULT_MODEL], tmp_path / "shipped")  # the shipped model is one
    card = make_ensemble([trained_model, second_model], tmp_path / "ens")
    with pytest.raises(ModelLoadError, match="itself an ensemble"):
        make_ensemble([card, trained_model], tmp_path / "nested")
    (tmp_path / "ens" / "ensemble.member1.tflite").write_bytes(b"not the member")
    with pytest.raises(ModelLoadError, match="does not match the sha256"):
        LivenessEngine.load(card, detector=None)


def test_a_card_cannot_point_outside_its_folder(trained_model):
    data = json.loads(card_path_for(trained_model).read_text())
    for bad in ("../m", "/etc/passwd", ".."):
        with pytest.raises(ModelLoadError, match="file names beside the card"):
            ModelCard.from_dict({**data, "members": [bad]})


def test_the_adapt_to_camera_recipe_runs_end_to_end(gathered, detector, tmp_path):
    """recipes/adapt_to_camera.sh, shortened to two seeds of one epoch: train, join, calibrate."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.update(EPOCHS="1", SEEDS="1 2")
    out = tmp_path / "adapted"
    done = subprocess.run(
        [
            "bash",
            str(REPO / "recipes" / "adapt_to_camera.sh"),
            str(gathered),
            str(gathered / "real"),
            str(REAL_VIDEO),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    engine = LivenessEngine.load(out / "calibrated" / "ensemble.card.json", detector=detector)
    assert len(engine.backend.members) == 2
    assert "liveness calibrate" in engine.card.threshold_source
    frame, faces = _faces(detector)[0]
    assert len(engine.score_faces(frame, faces)) == 1
    usage = subprocess.run(
        ["bash", str(REPO / "recipes" / "adapt_to_camera.sh")], capture_output=True, text=True
    )
    assert usage.returncode == 2 and "TWO_CLASS_FACES" in usage.stdout
