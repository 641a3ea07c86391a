"""The `liveness` command: one module per command, each holding its options and its run.

Nothing in the library imports this package; it is the front end the tutorial
scripts (`gather_examples.py`, `train_liveness.py`, `demo.py`) wrap.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from liveness import __version__
from liveness.cli import calibrate, check, demo, evaluate, gather, models, serve, train
from liveness.cli.quiet import NativeNoiseFilter
from liveness.errors import LivenessError

log = logging.getLogger("liveness")
TRAINING_MODULES = ("tensorflow", "keras")

EPILOG = """examples:
  liveness gather --input videos/real.mp4 --output dataset/real --skip 4
  liveness gather --input videos/fake.mp4 --output dataset/fake --skip 4
  liveness train --dataset dataset --model liveness.keras --le le.json --plot plot.png
  liveness demo --input videos/real.mp4 --no-display --output annotated.mp4 --json
  liveness demo                       # webcam 0 with the shipped model
  liveness check selfie.mp4 --require-blink   # one decision for a recorded clip, as JSON
  liveness calibrate --live my_camera_live.mp4 --output models/mine   # threshold for your camera
  liveness ensemble --model s1/m.keras s2/m.keras s3/m.keras --output models/ens   # seeds as one
  liveness import-onnx model.onnx --input-size 128 --crop-scale 1.5 --output models/x   # any ONNX PAD
  liveness serve --challenge          # web check with random prompts a replay cannot follow
"""


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
        gather.add,
        train.add,
        demo.add,
        evaluate.add,
        check.add,
        calibrate.add,
        models.add_ensemble,
        models.add_import_onnx,
        models.add_export,
        serve.add,
    ):
        add(sub)
    for command in sub.choices.values():
        _add_log_args(command)
    return parser


def _add_log_args(p: argparse.ArgumentParser) -> None:
    """-v / -q work before or after the subcommand."""
    p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output")
    p.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only warnings and errors"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of `liveness`; user mistakes end with one line and exit code 2."""
    args = build_parser().parse_args(argv)
    from liveness.logs import setup_logging

    setup_logging(-1 if getattr(args, "quiet", False) else getattr(args, "verbose", 0))
    try:
        with NativeNoiseFilter():
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
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in TRAINING_MODULES:
            log.error(
                "`liveness %s` needs TensorFlow/Keras, which a runtime install leaves out: "
                "pip install 'face-liveness[train]' (from a checkout: pip install -e '.[train]')",
                args.command,
            )
        elif getattr(args, "verbose", 0):
            log.exception("unexpected error")
        else:
            log.error(
                "unexpected error: %s: %s (run with --verbose for the traceback)", type(exc).__name__, exc
            )
        return 2


if __name__ == "__main__":
    sys.exit(main())
