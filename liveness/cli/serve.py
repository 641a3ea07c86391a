"""`liveness serve`: the web platform (FastAPI + uvicorn)."""

from __future__ import annotations

import argparse
import logging
import os

from liveness.cli import options
from liveness.detect import DEFAULT_DETECTOR
from liveness.web.settings import BLINK_MODES

log = logging.getLogger("liveness")


def add(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--workers", type=options.positive_int, default=1, help="worker processes (default: 1)")
    options.add_model_args(p)
    p.add_argument("--max-body-mb", type=float, default=10.0, help="largest request body in MB (default: 10)")
    p.add_argument("--max-side", type=int, default=4096, help="largest image side in px (default: 4096)")
    p.add_argument(
        "--max-stream-fps",
        type=options.positive_int,
        default=30,
        help="frames a second one WebSocket stream may send; faster frames get an error (default: 30)",
    )
    p.add_argument(
        "--max-decodes",
        type=options.positive_int,
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
    p.add_argument(
        "--detector-type",
        default=DEFAULT_DETECTOR,
        help=f"{DEFAULT_DETECTOR} (default), res10, blazeface or blazeface-full (`liveness check --help`)",
    )
    p.add_argument(
        "--confidence",
        "-c",
        type=options.unit_float,
        default=0.5,
        help="minimum detector confidence (default: 0.5)",
    )
    p.add_argument(
        "--blink",
        choices=BLINK_MODES,
        default="off",
        help="streamed checks: count blinks (count), or decide 'live' only after one (require: the "
        "check waits for a blink until it times out, then says 'uncertain'); default: off",
    )
    p.add_argument(
        "--challenge",
        action="store_true",
        help="streamed checks ask for 2-3 random moves (turn left/right, look up, blink), each within "
        "3 s, and decide 'live' only when the model says real and every prompt was followed in order "
        "(needs the MediaPipe landmark files, see --blink)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
        challenge=args.challenge,
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
