#!/usr/bin/env python3
"""Source-held-out yardstick: leave one group of sources out, train on the rest, score it unchanged.

The corpus (recipes/build_corpus.py) holds faces of many collections. Each fold
leaves one group out (Replay-Attack, NUAA, the tutorial users' face-crop
folders, and the YOLO tutorial's webcam datasets in two halves), trains the
project's network on every other source, takes the threshold the training run
fixed on its held-out groups (other people and repositories of the training
sources), and scores the left-out faces with it. Both references and the
shipped model are scored on the same faces, from scores cached once by
recipes/score_teachers.py; each reference's threshold is its EER on the fold's
training-side faces, the shipped model keeps its own. Replay-Attack devel never
trains: it is the in-dataset check of the shipping rule.

    python research/cross_source.py --corpus /work/corpus --mode quick --out /work/runs/xs/quick
    python research/cross_source.py --corpus /work/corpus --mode full --teacher-weight 0.5 ...
    python research/cross_source.py --corpus /work/corpus --out runs/xs/ens --combine runs/xs/a runs/xs/b

Quick mode (for iteration) caps faces per class and source and trains briefly;
full mode (for decisions) uses every corpus face. Writes config.json (resolved
configuration), one folder per fold with its model and scores, results.json and
results.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from liveness.data.corpus import capped
from liveness.data.datasets import load_images, load_samples
from liveness.data.manifest import read_rows, write_rows
from liveness.engine import LivenessEngine
from liveness.evaluate.metrics import apcer, auc, bpcer, eer
from liveness.logs import setup_logging
from liveness.train import TrainConfig, train

REPO = Path(__file__).resolve().parents[1]
REFERENCES = ("celeba", "silentface", "shipped")
NEVER_TRAINS = "replay-attack-devel"
CALIBRATION_BPCER = 0.05  # `liveness calibrate`'s default
MIN_CAMERA_FACES = 40  # a source with fewer faces of both classes gives no per-camera AUC worth a row
MODES = {
    "quick": {"train_cap": 80, "score_cap": 150, "epochs": 8, "patience": 3},
    "full": {"train_cap": None, "score_cap": None, "epochs": 15, "patience": 4},
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True, help="corpus folder (manifest.csv, teachers.csv)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--combine",
        type=Path,
        nargs="+",
        metavar="RUN",
        help="train nothing: score the mean of these earlier runs' students (an ensemble) on their faces",
    )
    p.add_argument("--mode", choices=sorted(MODES), default="quick")
    p.add_argument("--folds", nargs="+", help="run only these folds (default: all)")
    p.add_argument("--arch", default="fasnet-bn9")
    p.add_argument("--input-size", type=int, default=64)
    p.add_argument("--crop-scale", type=float, default=1.5, help="context: crop side / face box side")
    p.add_argument("--augment", default="strong", choices=("none", "basic", "strong"))
    p.add_argument("--teacher-weight", type=float, default=0.0, help="share of each target from the teachers")
    p.add_argument(
        "--teacher",
        default="teacher",
        choices=("teacher", "celeba", "silentface"),
        help="which cached score is the target: both references' mean (default) or one alone",
    )
    p.add_argument(
        "--teacher-views",
        type=Path,
        metavar="BANK",
        help="train on a bank of teacher-scored views (research/recipes/teacher_views.py), not cached scores",
    )
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--epochs", type=int, help="override the mode's epochs")
    p.add_argument(
        "--train-cap", type=int, help="override the mode's faces per class and source for training"
    )
    p.add_argument("--score-cap", type=int, help="override the mode's faces per class and source scored")
    args = p.parse_args()
    if args.teacher != "teacher" and args.teacher_views:
        p.error("--teacher picks a cached score; a teacher-views bank trains on both teachers' mean")
    return args


def folds_of(tables: list[dict[str, str]]) -> dict[str, list[str]]:
    """Source groups to leave out: the shared datasets, the crop folders, two halves of the YOLO rows.

    The YOLO rows are dealt into halves by size (largest first, each to the
    smaller half), so both halves hold several people and cameras.
    """
    folds: dict[str, list[str]] = defaultdict(list)
    halves: list[list[str]] = [[], []]
    sizes = [0, 0]
    yolo = [t for t in tables if t["kind"] == "yolo" and int(t["real"]) + int(t["spoof"]) > 0]
    for t in sorted(yolo, key=lambda t: -(int(t["real"]) + int(t["spoof"]))):
        i = int(np.argmin(sizes))
        halves[i].append(t["source"])
        sizes[i] += int(t["real"]) + int(t["spoof"])
    for t in tables:
        name = t["source"]
        if name.startswith("replay-attack"):
            folds["replay-attack"].append(name)
        elif t["kind"] == "class-folders":
            folds["tutorial-crops"].append(name)
        elif t["kind"] != "yolo":
            folds[name].append(name)
    folds["yolo-webcams-a"], folds["yolo-webcams-b"] = halves
    return {name: sources for name, sources in folds.items() if sources}


def measure(is_real: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float | None]:
    a, b = apcer(scores[~is_real], threshold), bpcer(scores[is_real], threshold)
    return {
        "auc": auc(is_real, scores),
        "apcer": a,
        "bpcer": b,
        "hter": None if a is None or b is None else (a + b) / 2,
        "threshold": threshold,
        "n_real": int(is_real.sum()),
        "n_attack": int((~is_real).sum()),
    }


def run_fold(name: str, left_out: list[str], rows, teachers, args, mode) -> dict:
    folder = args.out / name
    folder.mkdir(parents=True, exist_ok=True)
    train_rows = capped(
        [r for r in rows if r["source_name"] not in [*left_out, NEVER_TRAINS]], mode["train_cap"]
    )
    test_rows = capped([r for r in rows if r["source_name"] in left_out], mode["score_cap"])
    write_rows(folder / "train.csv", train_rows)
    write_rows(folder / "test.csv", test_rows)
    cached_teacher = bool(args.teacher_weight and not args.teacher_views)
    if cached_teacher:
        write_rows(
            folder / "teacher.csv",
            [{"path": r["path"], "teacher": teachers[r["path"]][args.teacher]} for r in train_rows],
        )
    config = TrainConfig(
        dataset=str(folder / "train.csv"),
        model=str(folder / "model" / "student.keras"),
        plot=str(folder / "plot.png"),
        architecture=args.arch,
        input_size=args.input_size,
        crop_scale=args.crop_scale,
        epochs=mode["epochs"],
        patience=mode["patience"],
        batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
        augment=args.augment,
        teacher_scores=str(folder / "teacher.csv") if cached_teacher else None,
        teacher_views=str(args.teacher_views) if args.teacher_views else None,
        teacher_weight=args.teacher_weight or 0.5,
    )
    result = train(config)
    engine = LivenessEngine.load(result.model_path.with_suffix(".tflite"), detector=None)
    samples = load_samples(folder / "test.csv")
    images, kept = load_images(samples, engine.card.input_size, engine.card.crop_scale)
    student = np.concatenate(
        [engine.score_crops(images[i : i + 256].astype(np.float32)) for i in range(0, len(images), 256)]
    )
    kept_rows = [test_rows[i] for i in kept]
    is_real = np.array([r["label"] == "real" for r in kept_rows])
    train_real = np.array([r["label"] == "real" for r in train_rows])
    scores_of = {"student": student, **reference_scores(teachers, [r["path"] for r in kept_rows])}
    train_scores = reference_scores(teachers, [r["path"] for r in train_rows])
    systems = {"student": measure(is_real, student, engine.threshold)}
    for ref in REFERENCES:
        if ref == "shipped":
            threshold = LivenessEngine.load(detector=None).threshold
        else:
            found = eer(train_real, train_scores[ref])
            threshold = found[1] if found else 0.5
        systems[ref] = measure(is_real, scores_of[ref], threshold)
    per_source = per_source_aucs(
        left_out, [r["source_name"] for r in kept_rows], is_real, scores_of, [r["path"] for r in kept_rows]
    )
    write_rows(  # every digit: rounded scores tie, and a run combined with itself would move its AUC
        folder / "scores.csv",
        [
            {"path": r["path"], "label": r["label"], "source": r["source_name"], "student": repr(float(s))}
            for r, s in zip(kept_rows, student, strict=True)
        ],
    )
    return {
        "left_out": left_out,
        "n_train": len(train_rows),
        "systems": systems,
        "per_source": per_source,
        "validation": result.card.metrics,
    }


def reference_scores(teachers: dict[str, dict[str, str]], paths: list[str]) -> dict[str, np.ndarray]:
    """Each reference's cached score of these faces."""
    return {ref: np.array([float(teachers[p][ref]) for p in paths]) for ref in REFERENCES}


def per_source_aucs(
    left_out: list[str],
    sources: list[str],
    is_real: np.ndarray,
    scores_of: dict[str, np.ndarray],
    paths: list[str] | None = None,
) -> dict[str, dict]:
    """Each system's AUC on each left-out source that has faces of both classes, and (given the
    faces' paths) its HTER once calibrated there as a user would (`calibrated_hter`)."""
    found = {}
    for source in left_out:
        idx = np.array([s == source for s in sources])
        if idx.any() and len(set(is_real[idx])) == 2:
            found[source] = {f"{k}_auc": auc(is_real[idx], v[idx]) for k, v in scores_of.items()}
            found[source]["n"] = int(idx.sum())
            if paths is not None:
                for k, v in scores_of.items():
                    found[source][f"{k}_calibrated_hter"] = calibrated_hter(
                        [p for p, i in zip(paths, idx, strict=True) if i], is_real[idx], v[idx]
                    )
    return found


def calibrated_hter(paths: list[str], is_real: np.ndarray, scores: np.ndarray) -> float | None:
    """A user's first week on one camera: `liveness calibrate` on the first half of its live faces
    (in file order, so mostly earlier footage), refusing 5 % of them, then the other half and every
    attack at that threshold. None when a half would hold fewer than 10 faces."""
    order = np.argsort(paths, kind="stable")
    live = order[is_real[order]]
    calibration, kept = live[: len(live) // 2], live[len(live) // 2 :]
    if len(kept) < 10 or len(calibration) < 10:
        return None
    threshold = float(np.quantile(scores[calibration], CALIBRATION_BPCER))
    return (apcer(scores[~is_real], threshold) + bpcer(scores[kept], threshold)) / 2


def combine_fold(name: str, runs: list[Path], teachers: dict[str, dict[str, str]]) -> dict:
    """A fold of an ensemble: the mean of the members' scores on the same faces, at the mean of
    their thresholds; the references' numbers are the first member's (the same faces)."""
    folds = [json.loads((run / "results.json").read_text())[name] for run in runs]
    first = folds[0]
    members = [read_rows(run / name / "scores.csv") for run in runs]
    paths = [r["path"] for r in members[0]]
    if any([r["path"] for r in rows] != paths for rows in members[1:]):
        raise SystemExit(f"{name}: the runs scored different faces; only runs of one corpus and mode combine")
    is_real = np.array([r["label"] == "real" for r in members[0]])
    student = np.mean([[float(r["student"]) for r in rows] for rows in members], axis=0)
    threshold = float(np.mean([fold["systems"]["student"]["threshold"] for fold in folds]))
    scores_of = {"student": student, **reference_scores(teachers, paths)}
    systems = {"student": measure(is_real, student, threshold)}
    systems.update({ref: first["systems"][ref] for ref in REFERENCES})
    sources = [r["source"] for r in members[0]]
    return {
        "left_out": first["left_out"],
        "members": [str(run) for run in runs],
        "systems": systems,
        "per_source": per_source_aucs(first["left_out"], sources, is_real, scores_of, paths),
    }


def summary_markdown(results: dict) -> str:
    systems = ["student", *REFERENCES]
    lines = [
        "| left-out group | " + " | ".join(f"{s} AUC / HTER" for s in systems) + " |",
        "|---|" + "---|" * len(systems),
    ]
    for name, fold in results.items():
        cells = [_cell(fold["systems"][s]) for s in systems]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for label, pick in (("mean", np.mean), ("worst", np.min)):
        cells = [f"{pick([f['systems'][s]['auc'] for f in results.values()]):.3f}" for s in systems]
        lines.append(f"| **{label} AUC** | " + " | ".join(cells) + " |")
    cameras = [p for f in results.values() for p in f["per_source"].values() if p["n"] >= MIN_CAMERA_FACES]
    if cameras:  # what one user meets: a single camera's faces, whose score level is its own
        cells = [f"{np.median([p[f'{s}_auc'] for p in cameras]):.3f}" for s in systems]
        lines.append(f"| **median AUC of {len(cameras)} cameras** | " + " | ".join(cells) + " |")
        cells = [_median_of(cameras, f"{s}_calibrated_hter") for s in systems]
        lines.append(
            "| **median HTER of those cameras, calibrated on half their live faces** | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def _median_of(cameras: list[dict], key: str) -> str:
    values = [c[key] for c in cameras if c.get(key) is not None]
    return f"{100 * np.median(values):.1f} %" if values else "-"


def _cell(m: dict) -> str:
    hter = "-" if m["hter"] is None else f"{100 * m['hter']:.1f} %"
    return f"{m['auc']:.3f} / {hter}"


def main() -> int:
    args = parse_args()
    setup_logging(0)
    mode = dict(MODES[args.mode])
    overrides = {"epochs": args.epochs, "train_cap": args.train_cap, "score_cap": args.score_cap}
    mode.update({k: v for k, v in overrides.items() if v is not None})
    started = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = read_rows(args.corpus / "manifest.csv")
    teachers = {r["path"]: r for r in read_rows(args.corpus / "teachers.csv")}
    rows = [r for r in rows if r["path"] in teachers]
    folds = folds_of(read_rows(args.corpus / "sources.csv"))
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    config = {
        "argv": sys.argv,
        "commit": commit,
        **{k: str(v) for k, v in vars(args).items()},
        "mode_settings": mode,
        "folds": folds,
    }
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    results = {}
    for name, left_out in folds.items():
        if args.folds and name not in args.folds:
            continue
        if args.combine:
            results[name] = combine_fold(name, args.combine, teachers)
        else:
            results[name] = run_fold(name, left_out, rows, teachers, args, mode)
        (args.out / "results.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    table = summary_markdown(results)
    (args.out / "results.md").write_text(table + f"\n\n{(time.time() - started) / 60:.1f} min\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
