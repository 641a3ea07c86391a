#!/usr/bin/env python3
"""Does adding live faces from a new camera (no attacks from it) make a model work on that camera?

Trains on Replay-Attack `train`, optionally plus the NUAA live faces of subjects
0001-0004 (or, with --swap, 0005-0008), and scores the other four NUAA subjects
(live and print) at three thresholds: the Replay-Attack `devel` EER point, the
model card's, and one set from the new camera's live faces alone (BPCER 5 % on those of the
added subjects that training holds out), which is what a user with their own
camera's live faces can do. Reuses the faces
gathered by `cross_dataset.py` (run it once first, with the same --margin).

    python research/experiments/bonafide_adaptation.py --arch livenessnet --input-size 32 --margin 1 --seed 42
    python research/experiments/bonafide_adaptation.py --arch fasnet --margin 1.6 --seed 7 --added none
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

import numpy as np

from liveness.calibrate import from_live_scores, write_calibrated
from liveness.data.datasets import Sample, load_many, split_samples
from liveness.engine import LivenessEngine
from liveness.ensemble import make_ensemble
from liveness.evaluate.harness import evaluate, rethreshold
from liveness.evaluate.protocols import frame_samples, video_faces, video_pairs
from liveness.evaluate.scorers import EngineScorer, Scorer
from liveness.logs import setup_logging
from liveness.train import TrainConfig, train

REPO = Path(__file__).resolve().parents[2]
LIVE_REJECTED = 0.05  # BPCER the live-face threshold allows
HALVES = {
    "1-4": tuple(f"nuaa_000{i}" for i in range(1, 5)),
    "5-8": tuple(f"nuaa_000{i}" for i in range(5, 9)),
}


def live_faces_only(manifest: Path, subjects: tuple[str, ...], name: str) -> Path:
    """A manifest beside `manifest` listing only the live faces of `subjects`."""
    with open(manifest, newline="") as fh:
        rows = list(csv.DictReader(fh))
    keep = [r for r in rows if r["label"] == "real" and r["subject"] in subjects]
    out = manifest.with_name(f"live_faces_of_subjects_{name}.csv")
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(keep)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("LIVENESS_SHARED_DIR", REPO.parent / "shared"))
    )
    p.add_argument(
        "--work", type=Path, default=Path("/tmp/liveness-cross"), help="faces gathered by cross_dataset.py"
    )
    p.add_argument("--out", type=Path, default=REPO / "runs" / "bonafide")
    p.add_argument("--arch", default="fasnet")
    p.add_argument("--input-size", type=int, default=80)
    p.add_argument("--margin", type=float, default=1.6)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--added", choices=("nuaa-live", "none"), default="nuaa-live")
    p.add_argument("--swap", action="store_true", help="add subjects 0005-0008, score 0001-0004")
    p.add_argument(
        "--balance", action="store_true", help="weigh the added live faces as much as Replay-Attack"
    )
    p.add_argument("--rescore", action="store_true", help="score the model an earlier run left in --out")
    p.add_argument(
        "--ensemble",
        type=int,
        nargs="+",
        metavar="SEED",
        help="score the mean of the models earlier runs with these seeds left in --out",
    )
    args = p.parse_args()
    added, scored = ("5-8", "1-4") if args.swap else ("1-4", "5-8")
    setup_logging(0)
    crops = args.work / f"margin{args.margin:g}"
    data = args.shared / "data"
    live = str(live_faces_only(crops / "nuaa" / "manifest.csv", HALVES[added], added))
    sets = [str(crops / "ra_train" / "manifest.csv")] + [live] * (args.added == "nuaa-live")
    tags = "_swap" * args.swap + "_balanced" * args.balance
    runs = args.ensemble or [args.seed]
    seeds = "+".join(map(str, runs))
    out = args.out / f"{args.arch}_{args.added}_seed{seeds}{tags}"
    out.mkdir(parents=True, exist_ok=True)
    fasnet = args.arch.startswith("fasnet")  # FASNet: the stable setting of cross_dataset.py
    config = TrainConfig(
        dataset=sets,
        model=str(out / f"{args.arch}.keras"),
        plot=str(out / "plot.png"),
        architecture=args.arch,
        input_size=args.input_size,
        epochs=30 if fasnet else 60,
        patience=12,
        seed=runs[0],
        learning_rate=5e-4 if fasnet else 1e-3,
        augment="strong" if fasnet else "basic",
        synthetic_attacks=0.3 if fasnet else 0.0,
        clean_share=0.3 if fasnet else 0.0,
        balance_datasets=args.balance,
    )
    if args.ensemble:
        models = [
            args.out / f"{args.arch}_{args.added}_seed{seed}{tags}" / f"{args.arch}.keras" for seed in runs
        ]
        ensemble = LivenessEngine.load(make_ensemble(models, out), detector=None)
        scorer = EngineScorer(ensemble, f"{args.arch} seeds {seeds}")
    else:
        model = Path(config.model) if args.rescore else train(config).model_path
        scorer = EngineScorer(LivenessEngine.load(model, detector=None), args.arch)
    devel, devel_faces = frame_samples(
        data / "replay-attack" / "index.csv", "devel", crops / "ra_devel" / "manifest.csv"
    )
    dev = evaluate(scorer, devel, faces=devel_faces)
    fixed = rethreshold(dev, dev.frame_level["eer_threshold"], "EER on Replay-Attack devel")
    samples, faces = frame_samples(data / "nuaa" / "index.csv", None, crops / "nuaa" / "manifest.csv")
    held_out = [i for i, s in enumerate(samples) if s.subject in HALVES[scored]]
    test = evaluate(
        scorer,
        [samples[i] for i in held_out],
        faces=[faces[i] for i in held_out],
        threshold=fixed.threshold,
        threshold_source="EER on Replay-Attack devel, applied unchanged",
    )
    # the model card's threshold: EER on held-out training subjects, which with --added
    # include live faces of the new camera (subjects it is not scored on)
    card = rethreshold(test, scorer.threshold, "the model card's (EER on held-out training subjects)")
    v = fixed.video_level or {}
    summary = {
        "config": vars(args),
        "ra_devel_video": v,
        f"nuaa_subjects_{scored}": test.frame_level,
        f"nuaa_subjects_{scored}_card_threshold": card.frame_level,
    }
    # the subjects a run with added live faces holds out (every member of an ensemble);
    # never trained on in either case
    both = load_many([sets[0], live])  # read once; each seed splits it as its training did
    held = set.intersection(
        *({s.subject.removeprefix("d1:") for s in held_out_live(both, config, seed)} for seed in runs)
    )
    live_cal = from_live_scores(
        live_face_scores(scorer, samples, faces, held), LIVE_REJECTED, scorer.threshold, sorted(held)
    )
    cut = live_cal.threshold
    calibrated = rethreshold(test, cut, f"BPCER {LIVE_REJECTED:.0%} on live faces of {sorted(held)}")
    if args.ensemble:  # the recipe as one model, with the threshold a user could set
        print(f"calibrated ensemble: {write_calibrated(out / 'ensemble', live_cal, out / 'calibrated')}")
    summary[f"nuaa_subjects_{scored}_live_calibrated"] = calibrated.frame_level
    print(f"threshold {cut:.3f} from held-out live faces of the new camera: {_rates(calibrated.frame_level)}")
    labels = data / "videos" / "labels.csv"
    if labels.is_file():  # a third camera: three sources, a real and a spoof clip each
        pairs = summary["shared_videos"] = video_pairs(scorer, video_faces(labels))
        means = " ".join(f"{k}={v:.2f}" for k, v in pairs["mean_score"].items() if v is not None)
        print(f"shared videos: real above spoof in {pairs['pairs_ordered']}/{pairs['pairs']} pairs ({means})")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    print(
        f"{args.arch} seed {seeds}, added {args.added if args.added == 'none' else added}"
        f"{' balanced' * args.balance}: RA devel video ACER {100 * v['acer']:.1f} % | NUAA {scored} "
        f"AUC {test.frame_level['auc']:.3f}; at the RA devel threshold {_rates(test.frame_level)}; "
        f"at the card's {_rates(card.frame_level)}"
    )
    return 0


def held_out_live(samples: list[Sample], config: TrainConfig, seed: int) -> list[Sample]:
    """The added live faces that training with `seed` held out for validation (as `train` splits)."""
    split = split_samples(samples, config.val_fraction, seed)
    return [samples[i] for i in split.val if samples[i].domain == 1]


def live_face_scores(scorer: Scorer, samples: list, faces: list, subjects: set[str]) -> np.ndarray:
    """Scores of these subjects' live faces: what a user can calibrate a threshold on with live
    faces of their own camera alone, no attack needed."""
    rows = [i for i, s in enumerate(samples) if s.is_real and s.subject in subjects]
    result = evaluate(scorer, [samples[i] for i in rows], faces=[faces[i] for i in rows])
    return result.scored.scores[result.scored.detected()]


def _rates(f: dict) -> str:
    return " ".join(f"{k} {100 * f[k]:.1f} %" for k in ("hter", "apcer_pooled", "bpcer"))


if __name__ == "__main__":
    raise SystemExit(main())
