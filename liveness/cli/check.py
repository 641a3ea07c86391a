"""`liveness check`: one decision for a photo or a recorded clip, printed as JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from liveness.cli import options
from liveness.errors import ConfigError


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
    p.add_argument(
        "--challenge",
        action="store_true",
        help="refused with a reason: a recorded clip cannot follow prompts drawn after it was recorded",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json

    from liveness.api import LivenessChecker
    from liveness.io.media import IMAGE_SUFFIXES

    if args.challenge:
        raise ConfigError(
            "a recorded photo or clip cannot be challenged: the prompts are drawn at random while the "
            "camera runs, after any recording was made; use `liveness serve --challenge` or "
            "`liveness demo --challenge` with a live camera"
        )
    checker = LivenessChecker(
        args.model,
        detector=options.detector(args),
        threshold=args.threshold,
        min_face=args.min_face,
        blink=args.blink,
        require_blink=args.require_blink,
    )
    if Path(args.input).suffix.lower() in IMAGE_SUFFIXES:
        result = checker.check_image(args.input)
    else:
        result = checker.check_video(args.input)
    print(json.dumps(result.to_dict()))
    return {"live": 0, "attack": 1}.get(result.decision, 3)
