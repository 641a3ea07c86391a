"""The corpus recipe, the teacher cache and the source-held-out yardstick, end to end on the shared
data alone (CI has no fetched catalogue mirrors: every catalogue row is skipped with a line)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from liveness.data.manifest import read_rows, write_rows
from liveness.data.views import load_views
from tests.conftest import REPO, SHARED, run_cli


@pytest.mark.shared
@pytest.mark.slow
def test_corpus_teachers_and_yardstick_run_on_the_shared_data(shared: Path, tmp_path: Path):
    corpus, mirrors = tmp_path / "corpus", tmp_path / "no-mirrors"
    mirrors.mkdir()
    built = run_cli(
        "recipes/build_corpus.py", "--mirrors", str(mirrors), "--output", str(corpus),
        "--shared", str(SHARED), "--cap", "8",
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    assert "no mirror of Afzal91004/FaceGuard" in built.stderr
    tables = {t["source"]: t for t in read_rows(corpus / "sources.csv")}
    assert set(tables) == {"replay-attack-train", "replay-attack-devel", "nuaa"}
    # at most 8 per class and source; res10 misses a face in a rare Replay-Attack frame
    assert all(7 <= int(t["real"]) <= 8 and 7 <= int(t["spoof"]) <= 8 for t in tables.values())
    assert "over the per-class cap" in tables["nuaa"]["skipped"]
    rows = read_rows(corpus / "manifest.csv")
    assert len(rows) >= 46 and all(r["sha256"] and int(r["w"]) > 20 for r in rows)

    scored = run_cli("recipes/score_teachers.py", "--corpus", str(corpus), "--shared", str(SHARED))
    assert scored.returncode == 0, scored.stderr[-2000:]
    teachers = read_rows(corpus / "teachers.csv")
    assert len(teachers) == len(rows)
    assert set(teachers[0]) == {"path", "celeba", "silentface", "shipped", "teacher"}

    # a corpus built again (say with a higher cap) takes the scores of faces it shares, by digest and box
    again = tmp_path / "again"
    again.mkdir()
    moved = [dict(r, x=str(int(r["x"]) + 2)) if i == 0 else r for i, r in enumerate(rows)]
    write_rows(again / "manifest.csv", moved)
    rescored = run_cli(
        "recipes/score_teachers.py", "--corpus", str(again), "--reuse", str(corpus), "--shared", str(SHARED)
    )
    assert rescored.returncode == 0, rescored.stderr[-2000:]
    assert f"({len(rows) - 1} reused, 1 new)" in rescored.stderr
    assert read_rows(again / "teachers.csv")[1:] == teachers[1:]
    assert 0.0 <= float(read_rows(again / "teachers.csv")[0]["celeba"]) <= 1.0  # scored afresh: its box moved

    # consistent distillation: view 0 of each face is the face itself, so its teacher score is the cache's
    made = run_cli(
        "research/recipes/teacher_views.py", "--corpus", str(corpus), "--views", "3", "--input-size", "32",
        "--shared", str(SHARED),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr[-2000:]
    bank = load_views(corpus / "views-c1.5-s32-k3.npz")
    assert bank.images.shape == (len(rows), 3, 32, 32, 3) and bank.teacher.shape == (len(rows), 3)
    cached = {r["path"]: float(r["teacher"]) for r in teachers}
    assert bank.teacher[:, 0] == pytest.approx([cached[p] for p in bank.paths], abs=1e-5)
    assert np.abs(bank.teacher[:, 1:] - bank.teacher[:, :1]).max() > 0.01  # the views do change
    viewed = tmp_path / "viewed"
    run = run_cli(
        "research/cross_source.py", "--corpus", str(corpus), "--out", str(viewed), "--folds", "nuaa",
        "--epochs", "1", "--teacher-weight", "1", "--input-size", "32", "--augment", "none",
        "--teacher-views", str(corpus / "views-c1.5-s32-k3.npz"),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert not (viewed / "nuaa" / "teacher.csv").exists()
    card = json.loads((viewed / "nuaa" / "model" / "student.card.json").read_text())
    assert card["training_data"]["config"]["teacher_views"].endswith("views-c1.5-s32-k3.npz")

    out = tmp_path / "yardstick"
    run = run_cli(
        "research/cross_source.py", "--corpus", str(corpus), "--out", str(out), "--mode", "quick",
        "--epochs", "1", "--teacher-weight", "0.5", "--input-size", "32", "--teacher", "celeba",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    celeba = {r["path"]: r["celeba"] for r in teachers}
    targets = read_rows(out / "nuaa" / "teacher.csv")
    assert targets and all(t["teacher"] == celeba[t["path"]] for t in targets)  # one reference alone
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"replay-attack", "nuaa"}
    assert "replay-attack-devel" not in {r["source_name"] for r in read_rows(out / "nuaa" / "train.csv")}
    for fold in results.values():
        assert set(fold["systems"]) == {"student", "celeba", "silentface", "shipped"}
        assert all(0.0 <= m["auc"] <= 1.0 for m in fold["systems"].values())
    # Silent-Face ranks NUAA's prints almost perfectly (AUC 1.000 on all 1,899 frames)
    assert results["nuaa"]["systems"]["silentface"]["auc"] > 0.9
    assert json.loads((out / "config.json").read_text())["folds"]["replay-attack"] == [
        "replay-attack-train",
        "replay-attack-devel",
    ]
    assert "| **worst AUC** |" in (out / "results.md").read_text()
    nuaa = results["nuaa"]["per_source"]["nuaa"]
    systems = ("student", "celeba", "silentface", "shipped")
    assert set(nuaa) == {"n"} | {f"{s}_auc" for s in systems} | {f"{s}_calibrated_hter" for s in systems}
    assert nuaa["celeba_calibrated_hter"] is None  # 8 live faces: no half of 10 to calibrate on

    # an ensemble of a run with itself is that run: same faces, same scores, same threshold
    combined = tmp_path / "combined"
    run = run_cli(
        "research/cross_source.py", "--corpus", str(corpus), "--out", str(combined),
        "--combine", str(out), str(out),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    again = json.loads((combined / "results.json").read_text())
    for name, fold in results.items():
        assert again[name]["systems"]["student"] == pytest.approx(fold["systems"]["student"])
        for source, aucs in fold["per_source"].items():
            assert again[name]["per_source"][source] == pytest.approx(aucs)


def test_calibrated_hter_calibrates_on_the_first_live_half_and_judges_the_rest():
    spec = importlib.util.spec_from_file_location("cross_source", REPO / "research" / "cross_source.py")
    cross_source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cross_source)
    calibration = [(f"cam/a{i:02d}.jpg", s) for i, s in enumerate(np.linspace(0.5, 1.0, 20))]
    later = [(f"cam/b{i:02d}.jpg", 0.4 if i < 5 else 0.9) for i in range(20)]  # 5 of 20 now refused
    attacks = [(f"cam/c{i:02d}.jpg", 0.6 if i < 2 else 0.1) for i in range(20)]  # 2 of 20 accepted
    faces = [*later, *attacks, *calibration][::-1]  # file order, not list order, picks the half
    is_real = np.array([not p.startswith("cam/c") for p, _ in faces])
    hter = cross_source.calibrated_hter([p for p, _ in faces], is_real, np.array([s for _, s in faces]))
    # threshold: 5 % of the first half, 0.5 + 0.95 * (0.5 / 19) = 0.525
    assert hter == pytest.approx((2 / 20 + 5 / 20) / 2)
    assert cross_source.calibrated_hter([p for p, _ in faces[:15]], is_real[:15], np.zeros(15)) is None
