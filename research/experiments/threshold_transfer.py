#!/usr/bin/env python3
"""Which threshold rule carries the colour-texture model to a camera it never saw?

The package fixes a colour-texture model's threshold at the pooled EER of one
random quarter of its training groups (fitted on the other three). Two draws of
that quarter put it 0.2 apart. The candidate gives every training face an
out-of-fold score (4 folds of groups) and takes the median over training
sources of each source's EER threshold; the model is then fitted on every
training face. Both are judged on the yardstick's five left-out groups (every
face): HTER at the threshold per group, and per camera with 20 live and 20
attack faces or more. The rule is in docs/across_sources.md ("A threshold that
transfers").

    python research/experiments/threshold_transfer.py --corpus /work/corpus --out /work/runs/texture
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from liveness import texture
from liveness.data.manifest import read_rows
from liveness.evaluate.metrics import apcer, auc, bpcer, eer
from liveness.train import typical_source_threshold

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from colour_texture import corpus_faces
from cross_source import NEVER_TRAINS, folds_of

MIN_CLASS = 20  # live and attack faces a source needs for its own EER threshold or HTER
SETTING = {"size": 128, "crop_scale": [1.5], "grid": 2, "hellinger": True, "distortion": False, "chi2": False}
C, ALPHA, QUARTER, FOLDS, DRAWS = 0.01, 100.0, 0.25, 4, 5


def fit(rows: list[dict[str, str]], x_of, teachers) -> texture.TextureModel:
    x = np.stack([x_of[r["path"]] for r in rows])
    y = np.array([r["label"] == "real" for r in rows])
    target = np.array([float(teachers[r["path"]]["teacher"]) for r in rows])
    return texture.fit(x, y, target, 1, C, ALPHA, root=False)


def score(model: texture.TextureModel, rows: list[dict[str, str]], x_of) -> np.ndarray:
    return model.real_probability(np.stack([x_of[r["path"]] for r in rows]))


def by_group(rows: list[dict[str, str]]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[r["subject"]].append(i)
    return groups


def quarter(rows: list[dict[str, str]], seed: int) -> tuple[list[int], list[int]]:
    """The package's kind of split: whole groups held out until a quarter of the faces, both
    classes on both sides (the first of 200 shuffles that gives it)."""
    groups = by_group(rows)
    names = sorted(groups)
    rng = random.Random(seed)
    for _ in range(200):
        rng.shuffle(names)
        held: list[int] = []
        for name in names:
            if len(held) >= QUARTER * len(rows):
                break
            held += groups[name]
        rest = sorted(set(range(len(rows))) - set(held))
        if all(len({rows[i]["label"] for i in side}) == 2 for side in (held, rest)):
            return rest, held
    raise RuntimeError("no quarter with both classes on both sides")


def out_of_fold(rows: list[dict[str, str]], x_of, teachers, seed: int = 0) -> np.ndarray:
    """Every face scored by a model fitted on the other folds of groups (dealt largest first to
    the smallest fold after a seeded shuffle)."""
    groups = by_group(rows)
    names = sorted(groups)
    random.Random(seed).shuffle(names)
    folds: list[list[int]] = [[] for _ in range(FOLDS)]
    for name in sorted(names, key=lambda n: -len(groups[n])):
        min(folds, key=len).extend(groups[name])
    scores = np.empty(len(rows), dtype=np.float32)
    for held in folds:
        rest = sorted(set(range(len(rows))) - set(held))
        scores[held] = score(fit([rows[i] for i in rest], x_of, teachers), [rows[i] for i in held], x_of)
    return scores


def per_source_median(rows: list[dict[str, str]], scores: np.ndarray) -> float:
    """The package's rule (`liveness.train.typical_source_threshold`) on manifest rows."""
    is_real = np.array([r["label"] == "real" for r in rows])
    return typical_source_threshold(is_real, scores, [r["source_name"] for r in rows])[0]


def pooled_threshold(rows: list[dict[str, str]], scores: np.ndarray) -> float:
    return float(eer(np.array([r["label"] == "real" for r in rows]), scores)[1])


def judged(rows: list[dict[str, str]], scores: np.ndarray, threshold: float) -> dict:
    """The left-out group at `threshold`: pooled HTER and each big-enough camera's HTER."""
    is_real = np.array([r["label"] == "real" for r in rows])
    sources = np.array([r["source_name"] for r in rows])

    def hter(mask: np.ndarray) -> float:
        return (apcer(scores[mask & ~is_real], threshold) + bpcer(scores[mask & is_real], threshold)) / 2

    cameras = {}
    for name in sorted(set(sources)):
        mine = sources == name
        if is_real[mine].sum() >= MIN_CLASS and (~is_real[mine]).sum() >= MIN_CLASS:
            cameras[name] = hter(mine)
    everything = np.ones(len(rows), dtype=bool)
    return {"threshold": threshold, "auc": auc(is_real, scores), "hter": hter(everything), "cameras": cameras}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="the colour_texture.py folder (its descriptors)")
    args = p.parse_args()
    rows, x_of, teachers = corpus_faces(args.corpus, args.out, argparse.Namespace(**SETTING))
    results: dict[str, dict] = defaultdict(dict)
    for name, left_out in folds_of(read_rows(args.corpus / "sources.csv")).items():
        test = [r for r in rows if r["source_name"] in left_out]
        train = [r for r in rows if r["source_name"] not in [*left_out, NEVER_TRAINS]]
        for seed in range(DRAWS):
            rest, held = quarter(train, seed)
            model = fit([train[i] for i in rest], x_of, teachers)
            held_rows = [train[i] for i in held]
            threshold = pooled_threshold(held_rows, score(model, held_rows, x_of))
            found = judged(test, score(model, test, x_of), threshold)
            results[f"quarter, pooled EER (seed {seed})"][name] = found
        oof = out_of_fold(train, x_of, teachers)
        test_scores = score(fit(train, x_of, teachers), test, x_of)
        results["out-of-fold, pooled EER"][name] = judged(test, test_scores, pooled_threshold(train, oof))
        results["out-of-fold, per-source median"][name] = judged(
            test, test_scores, per_source_median(train, oof)
        )
        print(name, {k: round(v[name]["hter"], 3) for k, v in results.items()}, flush=True)
    summary = {}
    for rule, folds in results.items():
        cameras = [h for f in folds.values() for h in f["cameras"].values()]
        summary[rule] = {
            "mean_hter": float(np.mean([f["hter"] for f in folds.values()])),
            "median_camera_hter": float(np.median(cameras)),
            "cameras": len(cameras),
            "thresholds": [round(f["threshold"], 3) for f in folds.values()],
        }
        print(f"{rule}: {summary[rule]}")
    draws = [s for rule, s in summary.items() if rule.startswith("quarter")]
    summary["quarter, pooled EER (mean of draws)"] = {
        key: float(np.mean([d[key] for d in draws])) for key in ("mean_hter", "median_camera_hter")
    }
    print("baseline:", summary["quarter, pooled EER (mean of draws)"])
    report = {"summary": summary, "folds": results}
    (args.out / "results-threshold-transfer.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
