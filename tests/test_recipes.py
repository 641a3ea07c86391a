"""The recipe that makes the shipped model, shortened (two seeds of one epoch), so it cannot rot."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from liveness.cards import ModelCard
from liveness.engine import LivenessEngine
from liveness.resources import DEFAULT_MODEL
from tests.conftest import REPO, SHARED


def test_the_shipping_recipe_makes_a_model_like_the_shipped_one(shared, detector, face_frame, tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.update(EPOCHS="1", SEEDS="1 2", WORK=str(tmp_path), LIVENESS_SHARED_DIR=str(SHARED))
    done = subprocess.run(
        ["bash", str(REPO / "recipes" / "ship_two_domain.sh")],
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    made = tmp_path / "shipped" / DEFAULT_MODEL.name
    card, shipped = ModelCard.load(made), ModelCard.load(DEFAULT_MODEL)
    for field in ("input_size", "crop_scale", "color_order", "class_names", "detector", "limitations"):
        assert getattr(card, field) == getattr(shipped, field), field
    assert card.training_data["dataset"] == shipped.training_data["dataset"]
    assert len(card.members) == 2 and set(card.metrics) >= {"replay-attack-devel"}
    devel = json.loads((tmp_path / "reports" / "replay-attack-devel" / "report.json").read_text())
    assert card.threshold == pytest.approx(devel["frame_level"]["eer_threshold"], abs=1e-5)
    engine = LivenessEngine.load(made, detector=detector)
    assert len(engine.analyse(face_frame)) == 1
