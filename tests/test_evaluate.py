import csv
import json
from pathlib import Path

import numpy as np
import pytest

from liveness.cards import ModelCard
from liveness.errors import DatasetError
from liveness.evaluate.dataset import load_eval_set
from liveness.evaluate.report import REPORT_KEYS, pad_metrics
from liveness.resources import DEFAULT_MODEL
from tests.conftest import replay_subset, run_cli


def _recompute(rows: list[dict], threshold: float) -> dict:
    """Independent arithmetic from scores.csv: per-species APCER, BPCER, ACER, HTER."""
    scored = [r for r in rows if r["score"]]
    real = np.array([float(r["score"]) for r in scored if r["label"] == "real"])
    species: dict[str, list[float]] = {}
    for r in scored:
        if r["label"] != "real":
            species.setdefault(r["attack"], []).append(float(r["score"]))
    per = {k: float(np.mean(np.array(v) >= threshold)) for k, v in species.items()}
    pooled = float(np.mean(np.concatenate([np.array(v) for v in species.values()]) >= threshold))
    bpcer = float(np.mean(real < threshold))
    return {
        "apcer_per_pais": per,
        "apcer": max(per.values()),
        "bpcer": bpcer,
        "acer": (max(per.values()) + bpcer) / 2,
        "hter": (pooled + bpcer) / 2,
        "failures_to_detect": sum(1 for r in rows if not r["score"]),
    }


def test_evaluate_writes_every_file_and_key_and_recomputes(shared, tmp_path):
    subset = replay_subset(tmp_path)
    report_dir = tmp_path / "report"
    done = run_cli("evaluate", "--dataset", str(subset), "--split", "devel", "--report-dir", str(report_dir))
    assert done.returncode == 0, done.stderr
    for name in ("report.json", "report.md", "scores.csv", "roc.png", "det.png", "hist.png", "run.json"):
        assert (report_dir / name).stat().st_size > 0, name
    run = json.loads((report_dir / "run.json").read_text())  # the run's recipe: code, libraries, model
    assert run["git_commit"] is None or len(run["git_commit"].split("+")[0]) == 40
    assert {"liveness", "python", "numpy", "opencv-python"} <= set(run["versions"])
    assert "tensorflow" not in run["versions"]  # inference never loads it
    default = ModelCard.load(DEFAULT_MODEL)
    assert run["model"]["name"] == default.name and run["model"]["files"] == default.files
    report = json.loads((report_dir / "report.json").read_text())
    for level in ("frame_level", "video_level"):
        assert set(REPORT_KEYS) <= set(report[level]), level
    frame = report["frame_level"]
    assert frame["n_real"] + frame["n_attack"] + frame["failures_to_detect"] == 60
    with open(report_dir / "scores.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 60
    expected = _recompute(rows, frame["threshold"])
    for key, value in expected.items():
        assert frame[key] == pytest.approx(value), key
    assert set(frame["apcer_per_pais"]) <= {
        "print-photo",
        "mobile-photo",
        "mobile-video",
        "highdef-photo",
        "highdef-video",
    }
    # the devel run's EER threshold, applied unchanged to another run
    again = tmp_path / "again"
    done = run_cli(
        "evaluate",
        "--dataset",
        str(subset),
        "--report-dir",
        str(again),
        "--threshold-from",
        str(report_dir / "report.json"),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((again / "report.json").read_text())["threshold"] == pytest.approx(
        frame["eer_threshold"]
    )


def test_metrics_that_cannot_be_computed_are_null_with_a_reason():
    report = pad_metrics(
        np.array([True, True]), np.array([0.9, 0.2]), ["", ""], 0.5, declared_species=["print"]
    )
    assert report["bpcer"] == 0.5
    assert report["apcer"] is None and report["eer"] is None and report["auc"] is None
    assert "no attack samples" in report["notes"]["eer"]
    assert report["apcer_per_pais"] == {"print": None}
    assert "no scored samples" in report["notes"]["apcer_per_pais.print"]
    json.dumps(report)  # never NaN or objects


def test_declared_species_without_samples_do_not_hide_the_others():
    report = pad_metrics(
        np.array([True, False, False]),
        np.array([0.9, 0.6, 0.1]),
        ["", "print", "replay"],
        0.5,
        declared_species=["mask"],
    )
    assert report["apcer_per_pais"] == {"mask": None, "print": 1.0, "replay": 0.0}
    assert report["apcer"] == 1.0 and report["hter"] == pytest.approx(0.25)


def test_bad_evaluation_sets(tmp_path):
    (tmp_path / "a.csv").write_text("file,kind\nx.jpg,real\n")
    with pytest.raises(DatasetError, match=r"missing column\(s\) \['label', 'path'\]"):
        load_eval_set(tmp_path / "a.csv")
    (tmp_path / "x.jpg").write_bytes(b"")
    (tmp_path / "b.csv").write_text("path,label\nx.jpg,real\nx.jpg,banana\n")
    with pytest.raises(DatasetError, match=r"unknown labels on line\(s\) 3"):
        load_eval_set(tmp_path / "b.csv")
    (tmp_path / "c.csv").write_text("path,label\nx.jpg,real\nmissing.jpg,spoof\n")
    with pytest.raises(DatasetError, match=r"1 file\(s\) do not exist, line\(s\) 3"):
        load_eval_set(tmp_path / "c.csv")
    (tmp_path / "d.csv").write_text("path,label,split\nx.jpg,real,train\n")
    with pytest.raises(DatasetError, match="no samples"):
        load_eval_set(tmp_path / "d.csv", split="devel")


def test_attack_species_columns(tmp_path):
    (tmp_path / "x.jpg").write_bytes(b"")
    (tmp_path / "e.csv").write_text(
        "path,label,attack,attack_medium,attack_content\n"
        "x.jpg,fake,,mobile,video\nx.jpg,spoof,print,,\nx.jpg,attack,,,\nx.jpg,real,,none,none\n"
    )
    samples = load_eval_set(tmp_path / "e.csv")
    assert [s.attack for s in samples] == ["mobile-video", "print", "attack", ""]
    assert [s.is_real for s in samples] == [False, False, False, True]


def test_evaluate_scores_labelled_videos_and_counts_their_blinks(shared, tmp_path):
    """The shared videos' own labels.csv, as a user would pass a list of recorded clips."""
    labels = shared / "data" / "videos" / "labels.csv"
    rows = list(csv.DictReader(labels.read_text().splitlines()))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    listing = tmp_path / "videos.csv"
    with open(listing, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "label", "attack"])
        writer.writeheader()
        writer.writerows(
            {"path": str(labels.parent / r["path"]), "label": r["label"], "attack": r["attack"]} for r in rows
        )
        writer.writerow({"path": str(broken), "label": "real", "attack": ""})
    out = tmp_path / "report"
    result = run_cli(
        "evaluate", "--dataset", str(listing), "--report-dir", str(out), "--every", "3", "--blink"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    video = report["video_level"]
    assert (video["n_real"], video["n_attack"], video["failures_to_detect"]) == (3, 3, 1)  # the broken file
    blinks = {Path(k).parent.name + "/" + Path(k).name: n for k, n in report["blinks"].items()}
    assert (
        blinks["tranvanluyt2203/real.mp4"] == 2 and blinks["lestari15/real.mp4"] == 0
    )  # tests/test_blink.py
    assert blinks["zalo-sample/1.mp4"] > 0  # a replayed video blinks
    gated = report["video_level_require_blink"]
    assert gated["apcer"] <= video["apcer"] and gated["bpcer"] >= video["bpcer"]  # the gate only refuses
    scores = list(csv.DictReader((out / "scores.csv").read_text().splitlines()))
    selfie = [r for r in scores if r["path"].endswith("tranvanluyt2203/real.mp4")]
    assert [int(r["frame"]) for r in selfie] == list(range(0, 621, 3))
    assert "## Blinks seen" in (out / "report.md").read_text()
    again = run_cli("evaluate", "--dataset", str(listing), "--report-dir", str(tmp_path / "r2"),
                    "--every", "30", "--threshold-from", str(out))  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "r2" / "report.json").read_text())["threshold"] == pytest.approx(
        report["frame_level"]["eer_threshold"]
    )


def test_an_unreadable_file_with_a_manifest_box_is_a_failure_to_detect(tmp_path, face_frame):
    """Its box came from a manifest, so nothing detects it first: scoring must skip it, not abort."""
    import cv2

    from liveness.engine import LivenessEngine
    from liveness.evaluate.dataset import EvalSample
    from liveness.evaluate.run import score_samples
    from liveness.evaluate.scorers import EngineScorer
    from liveness.types import Face

    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    cv2.imwrite(str(good), face_frame)
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    samples = [EvalSample(good, True, box=(10, 10, 100, 100)), EvalSample(bad, True, box=(10, 10, 100, 100))]
    faces = [Face(10, 10, 100, 100, 1.0)] * 2
    scored = score_samples(EngineScorer(LivenessEngine.load()), samples, faces)
    assert np.isfinite(scored.scores[0]) and np.isnan(scored.scores[1])
