"""`liveness check`: one decision for a photo or a recorded clip, printed as JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from liveness.cli import options


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="one decision (live, attack or uncertain) for a photo or a short recorded clip",
        description="Judge a photo, or a clip by the web check's rules: about two seconds of frames "
        "with one usable face, their scores' agreement, and with --require-blink a blink. Prints the "
        "decision as JSON; exit status 0 for live, 1 for attack, 3 for uncertain (2: an error).",
    )
    p.add_argument("input", help="an image or a video file")
    options.add_model_args(p)
    p.add_argument("--min-face", type=int, default=60, help="smallest face side in px to judge (default: 60)")
    p.add_argument(
        "--require-blink",
        action="store_true",
        help="clips: decide live only once the face has blinked (the clip's blinks are counted anyway "
        "with --blink)",
    )
    p.add_argument("--blink", action="store_true", help="clips: count the face's blinks")
    options.add_detector_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json

    from liveness.blink import EyeLandmarker
    from liveness.check import FrameChecker, check_clip
    from liveness.data.sources import IMAGE_SUFFIXES, read_image
    from liveness.engine import LivenessEngine
    from liveness.quality import QualityLimits

    engine = LivenessEngine.load(args.model, detector=options.detector(args), threshold=args.threshold)
    eyes = EyeLandmarker() if args.blink or args.require_blink else None
    checker = FrameChecker(engine, QualityLimits(min_face_px=args.min_face), eyes)
    if Path(args.input).suffix.lower() in IMAGE_SUFFIXES:
        result = checker.check_image(read_image(args.input))
    else:
        result = check_clip(args.input, checker, args.require_blink)
    print(json.dumps({**result, "model": engine.card.name, "threshold": engine.threshold}))
    return {"live": 0, "attack": 1}.get(str(result["decision"]), 3)
