"""The models that ship in the package, found by name (`--model colour-texture`)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from liveness.cards import ModelCard, card_path_for
from liveness.engine import LivenessEngine
from liveness.evaluate.metrics import auc
from liveness.resources import BUNDLED_MODELS, DEFAULT_MODEL, model_location
from tests.conftest import REAL_VIDEO, replay_subset, run_cli

TEXTURE = BUNDLED_MODELS["colour-texture"]


def test_a_bundled_name_finds_its_card_unless_a_file_of_that_name_is_here(tmp_path, monkeypatch):
    assert model_location(None) == DEFAULT_MODEL == model_location("livenessnet-x3")
    assert all(card.is_file() for card in BUNDLED_MODELS.values())
    assert model_location("colour-texture") == TEXTURE
    monkeypatch.chdir(tmp_path)
    (tmp_path / "colour-texture").mkdir()
    assert model_location("colour-texture") == Path("colour-texture")  # the user's own file wins
    assert model_location("mine.tflite") == Path("mine.tflite")


def test_the_colour_texture_card_names_every_source_and_its_terms():
    card = ModelCard.load(TEXTURE)
    assert card.architecture == "colour-texture" and card.input_size == 128 and card.crop_scale == 1.5
    sources = card.training_data["sources"]
    catalogue = [s for s in sources if s["commit"]]
    assert len(catalogue) >= 30
    assert all(len(s["commit"]) == 40 and "research" in s["terms"] for s in catalogue)
    assert {"replay-attack-train", "nuaa"} <= {s["source"] for s in sources}
    assert "replay-attack-devel" not in {s["source"] for s in sources}  # judged, never trained on
    assert "/work" not in TEXTURE.read_text() and "calibrate" in card.limitations
    assert "research" in card.terms and "retrain" in card.terms.lower()
    devel = card.metrics["replay-attack-devel"]
    assert devel["frame_level"]["threshold"] == pytest.approx(card.threshold)
    files = [TEXTURE, *(TEXTURE.parent / name for name in card.files)]
    assert sum(p.stat().st_size for p in files) < 5_000_000


def test_colour_texture_ranks_replay_attack_devel_which_it_never_saw(shared, tmp_path, detector):
    """Every 30th devel frame (120: 20 live, 100 attacks of 15 people it was not fitted on)."""
    engine = LivenessEngine.load("colour-texture", detector=detector)
    with open(replay_subset(tmp_path, every=30), newline="") as fh:
        rows = list(csv.DictReader(fh))
    scores = []
    for row in rows:
        verdicts = engine.analyse(cv2.imread(row["path"]))
        assert len(verdicts) == 1, row["path"]
        scores.append(verdicts[0].score)
    is_real = [row["label"] == "real" for row in rows]
    found = auc(np.array(is_real), np.array(scores))
    assert found is not None and found > 0.93, found  # 0.99 here, 0.977 on all 3,600 frames (its card)


def test_every_spelling_the_project_prints_names_the_bundled_model():
    for spelling in ("colour-texture", "colour_texture", "Colour_Texture"):
        assert model_location(spelling) == TEXTURE
    assert model_location("livenessnet_x3") == DEFAULT_MODEL
    assert model_location("colour-textur") == Path("colour-textur")


def test_check_and_calibrate_take_the_bundled_name(shared, tmp_path):
    check = run_cli("check", str(REAL_VIDEO), "--model", "colour-texture")
    answer = json.loads(check.stdout)
    assert check.returncode == {"live": 0, "attack": 1, "uncertain": 3}[answer["decision"]], check.stderr[
        -2000:
    ]
    assert answer["model"] == "colour_texture"
    again = run_cli("check", str(REAL_VIDEO), "--model", answer["model"])  # the name the answer printed
    assert again.returncode == check.returncode and json.loads(again.stdout)["score"] == answer["score"]
    typo = run_cli("check", str(REAL_VIDEO), "--model", "colour-textur")
    assert typo.returncode == 2 and "Traceback" not in typo.stderr
    assert "bundled models: livenessnet-x3, colour-texture" in typo.stderr  # the names it could have meant
    mine = tmp_path / "mine"
    live = ("--live", str(REAL_VIDEO), "--skip", "4")
    done = run_cli("calibrate", "--model", "colour-texture", *live, "--output", str(mine))
    assert done.returncode == 0, done.stderr[-2000:]
    calibrated = ModelCard.load(card_path_for(mine / "colour_texture"))
    assert calibrated.threshold != ModelCard.load(TEXTURE).threshold
    assert LivenessEngine.load(mine / "colour_texture.card.json").threshold == calibrated.threshold
