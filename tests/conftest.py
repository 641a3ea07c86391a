"""Shared fixtures. Real data comes from ../shared (or $LIVENESS_SHARED_DIR).

Locally, tests that need it skip when it is absent; under CI=true they fail,
so a CI run can never pass by skipping the real-data tests.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LIVENESS_SHARED_DIR", REPO.parent / "shared"))
VIDEOS = SHARED / "data" / "videos"
REAL_VIDEO = VIDEOS / "lestari15" / "real.mp4"
FAKE_VIDEO = VIDEOS / "lestari15" / "fake.mp4"
SHARED_VIDEOS = [
    ("tranvanluyt2203/real.mp4", "real"),
    ("tranvanluyt2203/fake.mp4", "fake"),
    ("lestari15/real.mp4", "real"),
    ("lestari15/fake.mp4", "fake"),
    ("zalo-sample/2.mp4", "real"),
    ("zalo-sample/1.mp4", "fake"),
]


def need_shared() -> Path:
    """The shared data folder; skip (locally) or fail (CI=true) when it is missing."""
    if (SHARED / "data" / "README.md").is_file():
        return SHARED
    message = f"shared data not found at {SHARED} (set LIVENESS_SHARED_DIR)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def need_reference(folder: Path) -> Path:
    """A reference model folder of the shared data; skip (locally) or fail (CI=true) without it."""
    if folder.is_dir():
        return folder
    message = f"reference models not found at {folder}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared() -> Path:
    return need_shared()


@pytest.fixture(scope="session")
def detector():
    from liveness.detect import create_detector

    return create_detector("res10")


@pytest.fixture(scope="session")
def face_frame(shared: Path) -> np.ndarray:
    """A real 1080x720 webcam frame with one face."""
    capture = cv2.VideoCapture(str(REAL_VIDEO))
    ok, frame = capture.read()
    capture.release()
    assert ok
    return frame


def run_cli(*args: str, cwd: Path = REPO, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `python -m liveness ARGS` (or a script when args[0] ends in .py) as a user would."""
    command = (
        [sys.executable, *args] if args[0].endswith(".py") else [sys.executable, "-m", "liveness", *args]
    )
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def gathered(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Face crops of the six shared videos, gathered with the real detector, as real/ and fake/."""
    from liveness.data.gather import GatherOptions, gather
    from liveness.detect import create_detector

    out = tmp_path_factory.mktemp("gathered")
    detector = create_detector("res10")
    for rel, label in SHARED_VIDEOS:
        subject = rel.split("/")[0]
        gather(str(VIDEOS / rel), out / label, detector, GatherOptions(skip=6, subject=subject))
    return out


@pytest.fixture(scope="session")
def trained_model(gathered: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LivenessNet trained for a few epochs on the gathered crops (exported to .tflite)."""
    from liveness.train import TrainConfig, train

    out = tmp_path_factory.mktemp("model")
    config = TrainConfig(
        dataset=str(gathered),
        model=str(out / "m.keras"),
        le=str(out / "le.json"),
        plot=str(out / "plot.png"),
        epochs=3,
        batch_size=32,
    )
    return train(config).model_path


def small_fasnet_config(dataset: Path, out: Path, **options):
    """A quick FASNet training run on the gathered test crops (64 px, no plot)."""
    from liveness.train import TrainConfig

    defaults = {"plot": None, "architecture": "fasnet", "input_size": 64, "epochs": 1, "batch_size": 32}
    return TrainConfig(dataset=str(dataset), model=str(out / "m.keras"), **{**defaults, **options})


def replay_subset(
    tmp_path: Path, every: int = 60, offset: int = 0, name: str = "subset", live_only: bool = False
) -> Path:
    """Every N-th devel row of Replay-Attack (from `offset`), paths made absolute, as a small
    index CSV; `live_only`: every N-th live row of train and devel instead (30 subjects)."""
    root = SHARED / "data" / "replay-attack"
    with open(root / "index.csv", newline="") as fh:
        wanted = (lambda r: r["label"] == "real") if live_only else (lambda r: r["split"] == "devel")
        rows = [r for r in csv.DictReader(fh) if wanted(r)][offset::every]
    out = tmp_path / f"{name}.csv"
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "path": str(root / r["path"])} for r in rows)
    return out
