#!/usr/bin/env python3
"""Cross-dataset protocol: train on Replay-Attack `train`, fix the threshold on Replay-Attack
`devel`, score NUAA unchanged (another lab, camera and population).

Writes its resolved configuration, the trained model, per-set reports and a
summary into --out; prints one table. Selecting methods on these NUAA numbers
makes NUAA a development set for generalisation, not a clean test: say so
when reporting.

    python research/cross_dataset.py --arch fasnet --input-size 80 --margin 1.6 \\
        --augment strong --synthetic-attacks 0.3 --out runs/cross/fasnet
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

from liveness.data.manifest import read_rows, write_rows
from liveness.engine import LivenessEngine
from liveness.ensemble import make_ensemble
from liveness.evaluate.harness import evaluate, rethreshold, write_report
from liveness.evaluate.protocols import face_of_row, frame_samples, gathered, video_faces, video_pairs
from liveness.evaluate.scorers import EngineScorer, LBPSVMScorer, MiniFASNetScorer
from liveness.logs import setup_logging
from liveness.train import TrainConfig, train

REPO = Path(__file__).resolve().parents[1]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = Path(os.environ.get("LIVENESS_SHARED_DIR", REPO.parent / "shared"))
    p.add_argument("--shared", type=Path, default=shared)
    p.add_argument("--work", type=Path, default=Path("/tmp/liveness-cross"), help="gathered faces (reused)")
    p.add_argument("--out", type=Path, default=REPO / "runs" / "cross")
    p.add_argument("--arch", default="fasnet")
    p.add_argument("--input-size", type=int, default=80)
    p.add_argument("--margin", type=float, default=1.6, help="context around the face box")
    p.add_argument("--augment", default="strong", choices=("none", "basic", "strong"))
    p.add_argument("--synthetic-attacks", type=float, default=0.3)
    p.add_argument("--clean-share", type=float, default=0.0, help="share of images spared photometric jitter")
    p.add_argument(
        "--retarget", type=float, default=0.0, help="share of images given a label-free brightness and chroma"
    )
    p.add_argument(
        "--distill",
        type=float,
        default=0.0,
        help="share of each training target taken from the MiniFASNet reference's score (0: labels only)",
    )
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--patience", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--model",
        type=Path,
        nargs="+",
        help="score this model (several: their mean score) instead of training one",
    )
    p.add_argument(
        "--direction",
        choices=("ra2nuaa", "nuaa2ra", "both"),
        default="ra2nuaa",
        help="ra2nuaa: train on Replay-Attack, test NUAA (default); nuaa2ra: the reverse; "
        "both: train on Replay-Attack train + NUAA, test Replay-Attack devel and the shared videos",
    )
    p.add_argument(
        "--live-only",
        action="store_true",
        help="train on Replay-Attack's live faces alone, every attack simulated from them "
        "(--synthetic-attacks is then the share of live faces turned into attacks): both classes "
        "come from one camera and room, so only recapture artefacts separate them",
    )
    p.add_argument("--reference", action="store_true", help="also score MiniFASNet from ../shared/models")
    p.add_argument("--lbp", action="store_true", help="also fit and score the LBP + SVM baseline")
    p.add_argument(
        "--lbp-colour", action="store_true", help="also fit and score LBP + SVM on HSV and YCrCb channels"
    )
    return p.parse_args()


def main() -> int:
    args = parse_args()
    if args.live_only and (args.direction != "ra2nuaa" or not args.synthetic_attacks):
        sys.exit(
            "--live-only trains on Replay-Attack alone (--direction ra2nuaa) with --synthetic-attacks > 0"
        )
    setup_logging(0)
    started = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "config.json").write_text(json.dumps({"argv": sys.argv, **vars(args)}, indent=2, default=str))
    ra = args.shared / "data" / "replay-attack" / "index.csv"
    nuaa = args.shared / "data" / "nuaa" / "index.csv"
    crops = args.work / f"margin{args.margin:g}"
    # boxes do not depend on the margin, so --model runs reuse any gathered folder
    needs_ra_train = not args.model and args.direction != "nuaa2ra"
    train_manifest = gathered(ra, "train", crops / "ra_train", args.margin) if needs_ra_train else None
    devel_manifest = gathered(ra, "devel", crops / "ra_devel", args.margin)
    nuaa_manifest = gathered(nuaa, None, crops / "nuaa", args.margin)
    videos = shared_videos(args.shared)
    if args.direction == "nuaa2ra":
        sets = [str(nuaa_manifest)]
        return train_and_score_devel(args, sets, "NUAA", ra, devel_manifest, videos, started)
    if args.direction == "both":
        sets = [str(train_manifest), str(nuaa_manifest)]
        return train_and_score_devel(args, sets, "Replay-Attack + NUAA", ra, devel_manifest, videos, started)
    train_set = live_faces_of(train_manifest) if args.live_only and train_manifest else train_manifest
    scorers = [project_scorer(args, [str(train_set)])]
    if args.reference and (args.shared / "models" / "minifasnet").is_dir():
        scorers.append(MiniFASNetScorer(args.shared / "models" / "minifasnet"))
    for colour in [False] * args.lbp + [True] * args.lbp_colour:
        train_manifest = train_manifest or gathered(ra, "train", crops / "ra_train", args.margin)
        scorers.append(LBPSVMScorer(args.seed, colour).fit_faces(*frame_samples(ra, "train", train_manifest)))
    summary = {}
    devel = frame_samples(ra, "devel", devel_manifest)
    test = frame_samples(nuaa, None, nuaa_manifest)
    for scorer in scorers:
        dev = evaluate(scorer, devel[0], faces=devel[1])
        fixed = rethreshold(dev, dev.frame_level["eer_threshold"], "EER on Replay-Attack devel")
        cross = evaluate(
            scorer,
            test[0],
            faces=test[1],
            threshold=fixed.threshold,
            threshold_source="EER on Replay-Attack devel, applied unchanged",
        )
        write_report(args.out / scorer.name / "ra_devel", fixed, vars(args))
        write_report(args.out / scorer.name / "nuaa", cross, vars(args))
        summary[scorer.name] = {
            "ra_devel": {"frame": fixed.frame_level, "video": fixed.video_level},
            "nuaa": {"frame": cross.frame_level},
            "shared_videos": video_pairs(scorer, videos),
        }
        print(line(scorer.name, fixed.frame_level, fixed.video_level, cross.frame_level))
        print(videos_line(summary[scorer.name]["shared_videos"]))
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"done in {time.time() - started:.0f} s -> {args.out}")
    return 0


def project_scorer(args: argparse.Namespace, datasets: list[str]) -> EngineScorer:
    """The model trained on `datasets`, or the given model(s): several are joined into one
    ensemble in --out (scored by their mean)."""
    models = args.model or [_train(args, datasets)]
    model = models[0] if len(models) == 1 else make_ensemble(models, args.out)
    engine = LivenessEngine.load(model, detector=None)
    return EngineScorer(engine, engine.card.architecture)  # named by what it is, not by --arch


def live_faces_of(manifest: Path) -> Path:
    """A manifest beside `manifest` listing only its live faces."""
    out = manifest.with_name("live_only.csv")
    write_rows(out, [r for r in read_rows(manifest) if r["label"] == "real"])
    return out


def _train(args: argparse.Namespace, datasets: list[str]) -> Path:
    config = TrainConfig(
        dataset=datasets,
        model=str(args.out / f"{args.arch}.keras"),
        plot=str(args.out / "plot.png"),
        architecture=args.arch,
        input_size=args.input_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        patience=args.patience,
        seed=args.seed,
        augment=args.augment,
        synthetic_attacks=args.synthetic_attacks,
        clean_share=args.clean_share,
        retarget=args.retarget,
        teacher_scores=str(teacher_scores(datasets[0], args.shared)) if args.distill else None,
        teacher_weight=args.distill,
    )
    return train(config).model_path


def teacher_scores(manifest: str, shared: Path) -> Path:
    """The MiniFASNet reference's real-probability for every gathered crop (its own context
    crops of the source frames), written once next to the manifest as `path,teacher`."""
    out = Path(manifest).parent / "teacher.csv"
    if out.is_file():
        return out
    from tqdm import tqdm

    from liveness.io.media import read_image

    reference = MiniFASNetScorer(shared / "models" / "minifasnet")
    with open(out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "teacher"])
        for row in tqdm(read_rows(Path(manifest)), desc="teacher scores"):
            score = reference.score(read_image(row["source"]), [face_of_row(row)])[0]
            writer.writerow([str((Path(manifest).parent / row["path"]).resolve()), f"{score:.6f}"])
    return out


def shared_videos(shared: Path) -> list:
    """Faces of ../shared/data/videos (a third domain: three sources, a real and a spoof each)."""
    labels = shared / "data" / "videos" / "labels.csv"
    return video_faces(labels) if labels.is_file() else []


def videos_line(result: dict) -> str:
    means = " ".join(
        f"{path}={score:.2f}" for path, score in result["mean_score"].items() if score is not None
    )
    return (
        f"  shared videos: real above spoof in {result['pairs_ordered']}/{result['pairs']} pairs, "
        f"{result['videos_correct']}/{result['videos']} videos right at the threshold ({means})"
    )


def train_and_score_devel(
    args: argparse.Namespace,
    datasets: list[str],
    trained_on: str,
    ra: Path,
    devel_manifest: Path,
    videos: list,
    started: float,
) -> int:
    """Train on `datasets` (threshold: EER on their held-out validation subjects, from the model
    card), then score Replay-Attack devel and the shared videos unchanged. Serves `nuaa2ra`
    (trained on NUAA alone) and `both` (Replay-Attack train + NUAA)."""
    scorer = project_scorer(args, datasets)
    samples, faces = frame_samples(ra, "devel", devel_manifest)
    result = evaluate(
        scorer, samples, faces=faces, threshold_source="the model card: EER on held-out validation subjects"
    )
    write_report(args.out / scorer.name / "ra_devel", result, vars(args))
    pairs = video_pairs(scorer, videos)
    f, v = result.frame_level, result.video_level or {}
    pct = lambda x: "n/a" if x is None else f"{100 * x:.1f}%"  # noqa: E731
    print(
        f"{scorer.name} trained on {trained_on}: Replay-Attack devel AUC {f['auc']:.3f} "
        f"HTER {pct(f['hter'])} APCER {pct(f['apcer_pooled'])} BPCER {pct(f['bpcer'])} "
        f"| video ACER {pct(v.get('acer'))} worst species {pct(v.get('apcer'))}"
    )
    print(videos_line(pairs))
    summary = {scorer.name: {"ra_devel": {"frame": f, "video": result.video_level}, "shared_videos": pairs}}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"done in {time.time() - started:.0f} s -> {args.out}")
    return 0


def line(name: str, dev: dict, dev_video: dict | None, nuaa: dict) -> str:
    pct = lambda v: "n/a" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    video = dev_video or {}
    return (
        f"{name}: RA devel AUC {dev['auc']:.3f} EER {pct(dev['eer'])} video ACER {pct(video.get('acer'))} "
        f"worst species {pct(video.get('apcer'))} | NUAA AUC {nuaa['auc']:.3f} HTER {pct(nuaa['hter'])} "
        f"APCER {pct(nuaa['apcer_pooled'])} BPCER {pct(nuaa['bpcer'])} FTD {nuaa['failures_to_detect']}"
    )


if __name__ == "__main__":
    sys.exit(main())
