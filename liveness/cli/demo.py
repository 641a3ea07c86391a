"""`liveness demo`: the real-time demo on a webcam or a video file."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from liveness.cli import options

log = logging.getLogger("liveness")


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="real-time liveness on a webcam or a video file",
        description="Draw each face's box with real/spoof and its score. Press q in the window to quit.",
    )
    p.add_argument("--input", "-i", default="0", help="camera index or video file (default: 0, the webcam)")
    options.add_model_args(p)
    p.add_argument("--le", "-l", help="label file from training; checked against the model card")
    p.add_argument(
        "--runtime",
        choices=("auto", "litert", "onnx", "keras"),
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
    p.add_argument("--max-frames", type=options.positive_int, help="stop after this many frames")
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
    p.add_argument(
        "--challenge",
        action="store_true",
        help="ask the main face for 2-3 random moves (turn left/right, look up, blink), each within 3 s, "
        "shown on the window; the decision (logged, and 'decision' in the JSON lines) is live only when "
        "the model says real and every prompt was followed in order",
    )
    p.add_argument("--overwrite", action="store_true", help="replace output files that already exist")
    options.add_detector_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from liveness.demo import DemoOptions, run_demo
    from liveness.engine import LivenessEngine
    from liveness.outputs import check_output_files

    check_output_files([args.output, args.json], args.overwrite)

    engine = LivenessEngine.load(
        args.model,
        detector=options.detector(args),
        runtime=args.runtime,
        label_file=args.le,
        threshold=args.threshold,
    )
    demo_options = DemoOptions(
        source=args.input,
        output=args.output,
        display=args.display,
        json_out=args.json,
        max_frames=args.max_frames,
        smooth=args.smooth,
        blink=args.blink,
        require_blink=args.require_blink,
        challenge=args.challenge,
    )
    summary = run_demo(engine, demo_options)
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
    if demo_options.reads_eyes:
        log.info("blinks seen: %d", summary.blinks)
        if demo_options.source.isdigit() and 0 < summary.fps < 10:
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
