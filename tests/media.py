"""Test media made at test time (never committed): synthetic videos and derived clips."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def faceless_video(path: Path, n: int = 8) -> Path:
    """Smooth gradients: no face for any detector."""
    ramp = np.tile(np.linspace(0, 255, 160, dtype=np.uint8), (120, 1))
    return write_video(path, [cv2.merge([ramp, np.roll(ramp, i * 7, 1), ramp]) for i in range(n)])


def ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        message = "ffmpeg is not installed (.ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)  # CI has it: a missing ffmpeg there is a broken run, not a skip
        pytest.skip(message)
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", *args], check=True)


def rotated_phone_video(source: Path, path: Path, frames: int = 12) -> Path:
    """Frames stored sideways plus a rotation tag, as phones record portrait video."""
    sideways = path.with_name("sideways_" + path.name)
    ffmpeg(
        "-i",
        str(source),
        "-frames:v",
        str(frames),
        "-vf",
        "transpose=1",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(sideways),
    )
    ffmpeg("-i", str(sideways), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(path))
    return path
