"""`liveness evaluate`: iSO/IEC 30107-3 evaluation of a model or a reference on a labelled set."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from liveness.cli import options
from liveness.errors import ConfigError
from liveness.resources import shared_dir

log = logging.getLogger("liveness")


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="ISO/IEC 30107-3 error rates of a model on a labelled dataset",
        description="Score every sample and write report.json, report.md, scores.csv and "
        "ROC/DET/histogram plots. A score is the probability of 'real'.",
    )
    p.add_argument(
        "--dataset",
        required=True,
        help="folder of class subfolders, or a CSV with path,label[,attack | attack_medium,"
        "attack_content][,subject][,video_id][,split]; paths relative to the CSV. Paths may be "
        "images or video files (each video's frames are scored and also judged as one video)",
    )
    p.add_argument("--split", help="use only rows whose 'split' column has this value")
    p.add_argument(
        "--every",
        type=options.positive_int,
        default=1,
        metavar="N",
        help="videos: score every N-th frame (default: 1; keep 10 or more frames a second with --blink)",
    )
    p.add_argument(
        "--blink",
        action="store_true",
        help="videos: count each video's blinks and add a video-level report in which a video "
        "without a blink is judged an attack (what `liveness demo --require-blink` does)",
    )
    p.add_argument("--report-dir", required=True, type=Path, help="folder for the report files")
    p.add_argument("--model", "-m", help=options.MODEL_HELP)
    p.add_argument(
        "--reference",
        choices=("silentface", "celeba"),
        help="score a reference model instead of a project model, each with its own crop: the "
        "Silent-Face MiniFASNet pair or the CelebA-Spoof MiniFASNet (ONNX, from --reference-dir)",
    )
    p.add_argument(
        "--reference-dir",
        type=Path,
        default=shared_dir() / "models",
        help="folder holding minifasnet/ and celeba-minifasnet/ (default: $LIVENESS_SHARED_DIR/models "
        "or ../shared/models)",
    )
    p.add_argument(
        "--runtime",
        choices=("auto", "litert", "onnx", "keras"),
        default="auto",
        help="inference runtime (default: auto)",
    )
    fixed = p.add_mutually_exclusive_group()
    fixed.add_argument("--threshold", type=options.probability, help="apply this threshold")
    fixed.add_argument(
        "--threshold-from",
        metavar="REPORT_OR_SCORES",
        help="apply the EER threshold of a development run (its report folder, report.json or scores.csv)",
    )
    p.add_argument(
        "--attack-types",
        help="comma-separated attack species that must be reported "
        "(a species without samples is reported as null)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace output files that already exist")
    options.add_detector_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from liveness.detect.landmarks import EyeLandmarker
    from liveness.engine import LivenessEngine
    from liveness.evaluate.dataset import load_eval_set
    from liveness.evaluate.harness import evaluate, write_report
    from liveness.evaluate.run import threshold_from
    from liveness.evaluate.scorers import EngineScorer, reference_scorer
    from liveness.outputs import check_output_folder

    if args.reference and args.model:
        raise ConfigError("give --model or --reference, not both")
    check_output_folder(args.report_dir, ("report.json", "scores.csv"), args.overwrite)
    samples = load_eval_set(args.dataset, args.split)
    engine = LivenessEngine.load(args.model, detector=options.detector(args), runtime=args.runtime)
    scorer = reference_scorer(args.reference, args.reference_dir) if args.reference else EngineScorer(engine)
    threshold, source = args.threshold, "given with --threshold" if args.threshold is not None else None
    if args.threshold_from:
        threshold, source = threshold_from(args.threshold_from), f"EER threshold of {args.threshold_from}"
    declared = [a.strip() for a in (args.attack_types or "").split(",") if a.strip()]
    result = evaluate(
        scorer,
        samples,
        detector=engine.detector,
        threshold=threshold,
        threshold_source=source,
        declared_species=declared,
        every=args.every,
        eyes=EyeLandmarker() if args.blink else None,
    )
    write_report(
        args.report_dir,
        result,
        {"argv": sys.argv, **{k: str(v) for k, v in vars(args).items() if k != "run"}},
        model=engine.describe() if not args.reference else {"reference": args.reference},
    )
    frame = result.frame_level
    log.info(
        "%d samples, %d without a face: AUC %s, EER %s, APCER %s, BPCER %s at threshold %.4f -> %s",
        len(samples),
        frame["failures_to_detect"],
        options.fmt(frame["auc"]),
        options.fmt(frame["eer"]),
        options.fmt(frame["apcer"]),
        options.fmt(frame["bpcer"]),
        result.threshold,
        args.report_dir,
    )
    return 0
