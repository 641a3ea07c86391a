import pickle
import re

import pytest

from liveness.cli import build_parser
from tests.conftest import REAL_VIDEO, run_cli


def _options(parser) -> list[str]:
    return [o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"]


@pytest.mark.parametrize(
    "command",
    [
        "gather",
        "train",
        "demo",
        "evaluate",
        "check",
        "calibrate",
        "ensemble",
        "import-onnx",
        "export",
        "serve",
    ],
)
def test_every_option_is_explained(command):
    sub = build_parser()._subparsers._group_actions[0].choices[command]
    text = sub.format_help()
    for option in _options(sub):
        assert option in text
    assert all(a.help for a in sub._actions if a.option_strings)


def test_help_runs_for_the_command_and_the_tutorial_scripts():
    assert "gather" in run_cli("--help").stdout
    for script, words in [
        ("gather_examples.py", "--skip"),
        ("train_liveness.py", "--le"),
        ("demo.py", "--confidence"),
        ("liveness_demo.py", "--detector"),
    ]:
        done = run_cli(script, "--help")
        assert done.returncode == 0 and words in done.stdout


def _one_clear_line(done) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_user_mistakes_end_in_one_line(tmp_path):
    assert "input not found" in _one_clear_line(
        run_cli("gather", "-i", str(tmp_path / "x.mp4"), "-o", str(tmp_path / "o"))
    )
    assert "dataset not found" in _one_clear_line(run_cli("train", "--dataset", str(tmp_path / "x")))
    (tmp_path / "faces" / "real").mkdir(parents=True)
    line = _one_clear_line(run_cli("train", "--dataset", str(tmp_path / "faces"), "--arch", "fasnet-tiny"))
    assert "unknown model architecture 'fasnet-tiny'" in line and "fasnet-ft" in line
    (tmp_path / "notes.txt").write_text("hello")
    line = _one_clear_line(run_cli("demo", "--input", str(tmp_path / "notes.txt"), "--no-display"))
    assert "is not an image or a video" in line
    (tmp_path / "bogus.keras").write_text("not a model")
    line = _one_clear_line(run_cli("demo", "--model", str(tmp_path / "bogus.keras"), "--no-display"))
    assert "model card" in line


def test_train_refuses_a_pickled_label_file_and_one_class_sets(tmp_path, gathered):
    line = _one_clear_line(
        run_cli("train", "--dataset", str(gathered / "real"), "--model", str(tmp_path / "m.keras"))
    )
    assert "no class subfolders" in line or "only one class" in line
    line = _one_clear_line(
        run_cli(
            "train",
            "--dataset",
            str(gathered),
            "--model",
            str(tmp_path / "m.keras"),
            "--le",
            str(tmp_path / "le.pickle"),
            "--epochs",
            "1",
        )
    )
    assert "never pickled" in line
    (tmp_path / "le.pickle").write_bytes(pickle.dumps(["fake", "real"]))
    line = _one_clear_line(
        run_cli("demo", "--le", str(tmp_path / "le.pickle"), "--input", str(REAL_VIDEO), "--no-display")
    )
    assert re.search("pickle", line)


def test_train_refuses_a_pickle_label_file_before_it_trains(tmp_path):
    from tests.conftest import run_cli

    result = run_cli(
        "train",
        "--dataset",
        str(tmp_path / "none"),
        "--le",
        "le.pickle",
        "--model",
        str(tmp_path / "m.keras"),
    )
    assert result.returncode == 2 and "never pickled" in result.stderr
    assert not (tmp_path / "m.keras").exists()


def test_native_chatter_is_dropped_and_everything_else_passes(capfd):
    import os

    from liveness.cli.quiet import NativeNoiseFilter

    with NativeNoiseFilter():
        os.write(
            2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        )
        os.write(2, b"I0000 00:00:1796172011.969756   10490 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"ERROR liveness: a real problem\nprogress 1/2\rprogress 2/2\r")
        os.write(2, b"E0000 00:00:1.2   7 graph.cc:9] a native error stays\n")
    err = capfd.readouterr().err
    kept = "ERROR liveness: a real problem\nprogress 1/2\rprogress 2/2\r"
    assert err == kept + "E0000 00:00:1.2   7 graph.cc:9] a native error stays\n"


def test_training_output_carries_no_third_party_chatter(tmp_path, gathered):
    model, plot = str(tmp_path / "m.keras"), str(tmp_path / "plot.png")
    done = run_cli("train", "--dataset", str(gathered), "--model", model, "--plot", plot, "--epochs", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "val_loss" in done.stdout + done.stderr and "saved" in done.stderr  # Keras's own lines pass
    for noise in ("oneDNN", "cuda", "XNNPACK", "absl", "cpu_feature_guard", "UserWarning"):
        assert noise not in done.stderr, noise
    assert "threshold 0." in done.stderr and "0000000" not in done.stderr  # printed thresholds are rounded


def test_outputs_are_checked_before_any_work(tmp_path, gathered):
    """Existing outputs are kept unless --overwrite; an output path that cannot be written is one
    clear line, before training or scoring starts (a file in the way of the folder, /proc)."""
    model = tmp_path / "m.keras"
    model.write_bytes(b"last week's model")
    line = _one_clear_line(run_cli("train", "--dataset", str(gathered), "--model", str(model),
                                   "--plot", str(tmp_path / "p.png")))  # fmt: skip
    assert "m.keras already exists; pass --overwrite" in line and model.read_bytes() == b"last week's model"
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    line = _one_clear_line(run_cli("train", "--dataset", str(gathered), "--model", str(blocker / "m.keras"),
                                   "--plot", str(tmp_path / "p.png")))  # fmt: skip
    assert "cannot write to" in line and "blocker" in line
    line = _one_clear_line(run_cli("evaluate", "--dataset", str(gathered), "--report-dir", "/proc/liveness"))
    assert "cannot write to /proc/liveness" in line
    report = tmp_path / "report"
    report.mkdir()
    (report / "report.json").write_text("{}")
    line = _one_clear_line(run_cli("evaluate", "--dataset", str(gathered), "--report-dir", str(report)))
    assert "report.json" in line and "--overwrite" in line and (report / "report.json").read_text() == "{}"
    video = tmp_path / "annotated.mp4"
    video.write_bytes(b"x")
    line = _one_clear_line(run_cli("demo", "--input", str(gathered), "--no-display", "--output", str(video)))
    assert "annotated.mp4 already exists" in line
    calibrated = tmp_path / "mine"
    calibrated.mkdir()
    (calibrated / "livenessnet_x3.card.json").write_text("{}")
    line = _one_clear_line(run_cli("calibrate", "--live", str(gathered), "--output", str(calibrated)))
    assert "livenessnet_x3.card.json" in line and "--overwrite" in line
