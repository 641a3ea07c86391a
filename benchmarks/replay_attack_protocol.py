#!/usr/bin/env python3
"""The Replay-Attack protocol: train on `train`, fix each system's EER threshold on `devel`.

Every system is scored on the same faces (res10 boxes found once by
`liveness gather`): the project's model trained here, the shipped model, the
MiniFASNet reference (if ../shared/models/minifasnet exists) and a
multi-scale LBP + SVM baseline trained on the same train split. Prints one
side-by-side table and writes per-system report folders plus summary.json.

    python benchmarks/replay_attack_protocol.py --out runs/protocol
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from liveness.engine import LivenessEngine
from liveness.evaluate.harness import Evaluation, evaluate, rethreshold, write_report
from liveness.evaluate.protocols import frame_samples, gathered
from liveness.evaluate.scorers import EngineScorer, LBPSVMScorer, MiniFASNetScorer
from liveness.logs import setup_logging
from liveness.train import TrainConfig, train

log = logging.getLogger("protocol")
REPO = Path(__file__).resolve().parents[1]
KEYS = ("eer", "apcer", "bpcer", "acer", "hter", "bpcer_at_apcer_5pct")
SPECIES = ("print-photo", "mobile-photo", "mobile-video", "highdef-photo", "highdef-video")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("LIVENESS_SHARED_DIR", REPO.parent / "shared"))
    )
    p.add_argument(
        "--work", type=Path, default=Path("/tmp/liveness-protocol"), help="gathered crops and models"
    )
    p.add_argument("--out", type=Path, default=REPO / "runs" / "protocol", help="reports and summary")
    p.add_argument("--arch", default="livenessnet")
    p.add_argument("--input-size", type=int, default=32)
    p.add_argument("--margin", type=float, default=1.0, help="crop margin of the project's model")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--every", type=int, default=1, help="use every N-th frame (quick runs)")
    return p.parse_args()


def row(e: Evaluation) -> dict[str, object]:
    f, v = e.frame_level, e.video_level or {}
    return {"system": e.scorer, "threshold": e.threshold, "frame": f, "video": v}


def table(results: list[Evaluation]) -> str:
    pct = lambda x: "  n/a" if x is None else f"{100 * x:5.1f}"  # noqa: E731
    head = (
        f"{'system':<28} {'lvl':<5} {'AUC':>6} {'EER%':>6} {'APCER%':>7} {'BPCER%':>7} {'ACER%':>6} "
        f"{'HTER%':>6} {'BPCER20%':>8}  " + " ".join(f"{s:>13}" for s in SPECIES)
    )
    lines = [head, "-" * len(head)]
    for e in results:
        for level, r in (("frame", e.frame_level), ("video", e.video_level)):
            if r is None:
                continue
            auc = "   n/a" if r["auc"] is None else f"{r['auc']:6.3f}"
            rates = [f"{pct(r[k]):>{w}}" for k, w in zip(KEYS, (6, 7, 7, 6, 6, 8), strict=True)]
            species = [f"{pct(r['apcer_per_pais'].get(s)):>13}" for s in SPECIES]
            lines.append(f"{e.scorer:<28} {level:<5} {auc} {' '.join(rates)}  {' '.join(species)}")
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    setup_logging(0)
    started = time.time()
    index = args.shared / "data" / "replay-attack" / "index.csv"
    if not index.is_file():
        log.error("Replay-Attack index not found at %s (set --shared or LIVENESS_SHARED_DIR)", index)
        return 2
    train_manifest = gathered(index, "train", args.work / "train", args.margin, args.every)
    devel_manifest = gathered(index, "devel", args.work / "devel", args.margin, args.every)
    model = train(
        TrainConfig(
            dataset=str(train_manifest),
            model=str(args.work / f"{args.arch}.keras"),
            plot=str(args.work / "plot.png"),
            architecture=args.arch,
            input_size=args.input_size,
            epochs=args.epochs,
            patience=12,
            seed=args.seed,
        )
    ).model_path
    devel, devel_faces = frame_samples(index, "devel", devel_manifest, args.every)
    train_set, train_faces = frame_samples(index, "train", train_manifest, args.every)
    scorers = [
        EngineScorer(LivenessEngine.load(model, detector=None), f"{args.arch} (trained here)"),
        EngineScorer(LivenessEngine.load(detector=None), "shipped model"),
        LBPSVMScorer(args.seed).fit_faces(train_set, train_faces),
    ]
    reference = args.shared / "models" / "minifasnet"
    if reference.is_dir():
        scorers.append(MiniFASNetScorer(reference))
    results = []
    for scorer in scorers:
        first = evaluate(scorer, devel, faces=devel_faces, declared_species=SPECIES)
        fixed = rethreshold(first, first.frame_level["eer_threshold"], "EER threshold on Replay-Attack devel")
        write_report(args.out / scorer.name.split()[0], fixed, {"argv": sys.argv, **vars(args)})
        results.append(fixed)
    text = table(results)
    print(text)
    summary = {
        "command": " ".join(sys.argv),
        "seconds": round(time.time() - started),
        "args": vars(args),
        "results": [row(e) for e in results],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (args.out / "summary.txt").write_text(text + "\n")
    log.info("done in %.0f s; reports in %s", time.time() - started, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
