import json

import cv2
import numpy as np
import pytest

from liveness.calibrate import calibrate, live_scores, write_calibrated
from liveness.cards import ModelCard, card_path_for
from liveness.engine import LivenessEngine
from liveness.errors import InputError
from liveness.resources import DEFAULT_MODEL
from tests.conftest import REAL_VIDEO, VIDEOS, replay_subset, run_cli

LIVE = [VIDEOS / "tranvanluyt2203" / "real.mp4", REAL_VIDEO]


def test_threshold_refuses_the_asked_share_of_live_faces(trained_model, detector, tmp_path):
    engine = LivenessEngine.load(trained_model, detector=detector)
    result = calibrate(engine, LIVE, bpcer=0.1, skip=8)
    scores, missed = live_scores(engine, LIVE, skip=8)
    assert result.n_faces == len(scores) > 50 and result.frames_without_face == missed
    assert result.threshold == pytest.approx(np.quantile(scores, 0.1))
    assert result.bpcer == pytest.approx(np.mean(scores < result.threshold))
    assert 0.05 <= result.bpcer <= 0.1 + 1.0 / len(scores)
    assert result.previous_threshold == engine.card.threshold

    original = card_path_for(trained_model).read_text()
    card_file = write_calibrated(trained_model, result, tmp_path / "calibrated")
    assert card_path_for(trained_model).read_text() == original  # the original is never touched
    copy = LivenessEngine.load(card_file, detector=detector)  # checks the copied weights' hashes
    assert copy.threshold == pytest.approx(result.threshold)
    card = ModelCard.load(card_file)
    assert "liveness calibrate" in card.threshold_source
    assert card.metrics["calibration"]["n_faces"] == result.n_faces
    assert card.detector == "res10"  # the boxes the threshold was found on


def test_calibrating_on_frames_without_faces_fails_clearly(trained_model, detector, tmp_path):
    folder = tmp_path / "empty_room"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((240, 320, 3), 40 * i, np.uint8))
    engine = LivenessEngine.load(trained_model, detector=detector)
    with pytest.raises(InputError, match="no face found"):
        calibrate(engine, [folder])


def test_calibrate_command_writes_a_usable_copy_that_names_its_detector(shared, tmp_path):
    out = str(tmp_path / "mine")
    done = run_cli(
        "calibrate", "--live", str(REAL_VIDEO), "--skip", "4", "--output", out, "--detector-type", "blazeface"
    )
    assert done.returncode == 0, done.stderr
    assert "live faces" in done.stderr and "calibrated copy" in done.stderr
    assert "trained and calibrated on res10 faces" in done.stderr  # the shipped card's detector
    card = json.loads((tmp_path / "mine" / DEFAULT_MODEL.name).read_text())
    assert card["metrics"]["calibration"]["sources"] == [str(REAL_VIDEO)]
    assert card["detector"] == "blazeface"  # the copy's threshold holds for blazeface's boxes
    bad = run_cli("calibrate", "--live", str(tmp_path / "missing.mp4"))
    assert bad.returncode != 0 and "input not found" in bad.stderr and "Traceback" not in bad.stderr


def test_threshold_from_a_development_run_with_its_test_runs_recorded(shared, tmp_path):
    """Fix on development, judge a test run at that threshold: the numbers in the card are the
    ones `liveness evaluate --threshold-from` gives when it scores the test set again."""
    dev, test = tmp_path / "reports" / "dev", tmp_path / "reports" / "test"
    done = run_cli(
        "evaluate", "--dataset", str(replay_subset(tmp_path, 60, 0, "a")), "--report-dir", str(dev)
    )
    assert done.returncode == 0, done.stderr
    done = run_cli(
        "evaluate",
        "--dataset",
        str(replay_subset(tmp_path, 60, 30, "b")),
        "--report-dir",
        str(test),
        "--threshold-from",
        str(dev / "report.json"),
    )
    assert done.returncode == 0, done.stderr
    done = run_cli(
        "calibrate", "--threshold-from", str(dev), "--record", str(test), "--output", str(tmp_path / "fixed")
    )
    assert done.returncode == 0, done.stderr
    dev_report = json.loads((dev / "report.json").read_text())
    test_report = json.loads((test / "report.json").read_text())
    card = ModelCard.load(next((tmp_path / "fixed").glob("*.card.json")))
    assert card.threshold == pytest.approx(dev_report["frame_level"]["eer_threshold"], abs=1e-5)
    assert card.threshold != pytest.approx(dev_report["threshold"])  # not the card's old one
    assert "EER on dev" in card.threshold_source
    for level in ("frame_level", "video_level"):
        for key in ("apcer", "bpcer", "acer", "hter", "auc", "apcer_per_pais"):
            assert card.metrics["test"][level][key] == pytest.approx(test_report[level][key], abs=1e-4), key
    dev_frames = card.metrics["dev"]["frame_level"]
    one_face = max(1 / dev_frames["n_real"], 1 / dev_frames["n_attack"])
    assert dev_frames["bpcer"] == pytest.approx(dev_frames["apcer_pooled"], abs=one_face + 1e-9)
    # at its own EER point the two error rates meet, to within one face

    lonely = run_cli("calibrate", "--live", str(REAL_VIDEO), "--record", str(test))
    assert lonely.returncode != 0 and "--record needs --threshold-from" in lonely.stderr
    empty = run_cli("calibrate", "--threshold-from", str(tmp_path))
    assert empty.returncode != 0 and "no scores.csv" in empty.stderr and "Traceback" not in empty.stderr


def test_a_threshold_far_below_the_models_own_is_named_and_needs_force():
    from liveness.calibrate import from_live_scores, implausible

    near = from_live_scores(np.linspace(0.3, 0.95, 200), 0.05, 0.5438, ["camera"])
    assert implausible(near) is None
    collapsed = from_live_scores(np.linspace(0.0005, 0.05, 200), 0.05, 0.5438, ["camera"])
    assert collapsed.threshold < 0.01
    assert "far below the model's own 0.5438" in implausible(collapsed)


def test_calibrate_refuses_a_collapsed_threshold_without_force(shared, tmp_path):
    selfie = shared / "data" / "videos" / "tranvanluyt2203" / "real.mp4"  # the LivenessNet scores it ~0.004
    args = ("calibrate", "--model", "livenessnet-x3", "--live", str(selfie), "--skip", "6")
    refused = run_cli(*args, "--output", str(tmp_path / "out"))
    assert refused.returncode == 2 and "far below the model's own" in refused.stderr
    assert "--force" in refused.stderr and not any((tmp_path / "out").glob("*"))  # nothing written
    forced = run_cli(*args, "--output", str(tmp_path / "out"), "--force")
    assert forced.returncode == 0, forced.stderr[-2000:]
    assert ModelCard.load(next((tmp_path / "out").glob("*.card.json"))).threshold < 0.05
