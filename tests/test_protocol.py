"""The Replay-Attack protocol script, on a small slice, so it cannot rot between full runs."""

import json

from tests.conftest import SHARED, run_cli


def test_protocol_runs_and_prints_the_side_by_side_table(shared, tmp_path):
    done = run_cli(
        "benchmarks/replay_attack_protocol.py",
        "--every",
        "40",
        "--epochs",
        "1",
        "--work",
        str(tmp_path / "work"),
        "--out",
        str(tmp_path / "out"),
        "--shared",
        str(SHARED),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "system" in done.stdout and "lbp_svm" in done.stdout and "shipped model" in done.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    systems = {r["system"] for r in summary["results"]}
    assert {"livenessnet (trained here)", "shipped model", "lbp_svm"} <= systems
    for result in summary["results"]:
        assert result["frame"]["threshold"] == result["frame"]["eer_threshold"]  # fixed on devel
    assert (tmp_path / "out" / "lbp_svm" / "report.json").is_file()
