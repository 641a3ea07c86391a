"""The tutorial's three steps on real video, as a user runs them: gather -> train -> demo."""

import json

import cv2

from liveness.data.manifest import read_rows
from tests.conftest import FAKE_VIDEO, REAL_VIDEO, run_cli


def _check_demo_output(out_json, out_video, frames_expected: int) -> list[dict]:
    lines = [json.loads(line) for line in out_json.read_text().splitlines()]
    assert len(lines) == frames_expected
    with_face = [rec for rec in lines if rec["faces"]]
    assert len(with_face) >= 0.9 * len(lines)
    for rec in with_face:
        for face in rec["faces"]:
            assert len(face["box"]) == 4 and 0.0 <= face["score"] <= 1.0
            assert face["label"] in ("real", "spoof")
            assert face["track"] == 0 and 0.0 <= face["video_score"] <= 1.0  # one person, one track
    capture = cv2.VideoCapture(str(out_video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == frames_expected
    capture.release()
    return lines


def _demo_headless(tmp_path, video, frames: int, *model_args: str):
    """`demo.py` on a video, headless, writing an annotated video and JSON lines; checks both."""
    out_json, out_video = tmp_path / "frames.jsonl", tmp_path / "annotated.mp4"
    done = run_cli(
        "demo.py",
        *model_args,
        "--input",
        str(video),
        "--no-display",
        "--output",
        str(out_video),
        "--json",
        str(out_json),
    )
    assert done.returncode == 0, done.stderr
    _check_demo_output(out_json, out_video, frames)
    return done


def test_gather_train_demo_with_the_tutorial_scripts(shared, tmp_path):
    for video, label in ((REAL_VIDEO, "real"), (FAKE_VIDEO, "fake")):
        done = run_cli(
            "gather_examples.py",
            "--input",
            str(video),
            "--output",
            str(tmp_path / "ds" / label),
            "--skip",
            "4",
            "--subject",
            "lestari15",
        )
        assert done.returncode == 0, done.stderr
    assert len(read_rows(tmp_path / "ds" / "real" / "manifest.csv")) == 28
    model, le, plot = tmp_path / "m.keras", tmp_path / "le.json", tmp_path / "plot.png"
    done = run_cli(
        "train_liveness.py",
        "--dataset",
        str(tmp_path / "ds"),
        "--model",
        str(model),
        "--le",
        str(le),
        "--plot",
        str(plot),
        "--epochs",
        "2",
        "--seed",
        "1",
    )
    assert done.returncode == 0, done.stderr
    assert model.is_file() and le.is_file() and plot.stat().st_size > 10_000
    assert model.with_suffix(".tflite").is_file()
    assert json.loads(le.read_text()) == {"classes": ["real", "spoof"]}  # fake/ is read as the attack class
    _demo_headless(tmp_path, FAKE_VIDEO, 77, "--model", str(model), "--le", str(le))


def test_demo_runs_on_the_shipped_model_without_training(shared, tmp_path):
    done = _demo_headless(tmp_path, REAL_VIDEO, 112)
    assert "faces judged real" in done.stderr and "calibrate" not in done.stderr
    replay = run_cli("demo", "--input", str(FAKE_VIDEO), "--no-display")
    assert replay.returncode == 0 and "0% of 77 faces judged real" in replay.stderr
    assert "liveness calibrate --live" in replay.stderr  # all attacks: the hint for a live camera
    done = run_cli("demo", "--input", str(REAL_VIDEO), "--no-display", "--json", "--max-frames", "5")
    assert [len(json.loads(line)["faces"]) for line in done.stdout.splitlines()] == [1] * 5
