"""`liveness calibrate`: a threshold for the user's own camera."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from liveness.cli import options

log = logging.getLogger("liveness")


def add(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--model", "-m", help="the model to calibrate: " + options.MODEL_HELP)
    p.add_argument(
        "--bpcer",
        type=options.share_below_half,
        default=0.05,
        help="share of these live faces the new threshold may refuse (default: 0.05)",
    )
    p.add_argument(
        "--skip", type=options.positive_int, default=5, help="use every N-th video frame (default: 5)"
    )
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        help="folder for a copy of the model with the new threshold in its card "
        "(default: only report; the original is never changed)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace output files that already exist")
    p.add_argument(
        "--force",
        action="store_true",
        help="write a threshold far below the model's own (which would accept nearly every attack)",
    )
    options.add_detector_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from liveness.calibrate import calibrate, implausible, write_calibrated
    from liveness.engine import LivenessEngine
    from liveness.errors import ConfigError

    _check_output(args)
    if args.threshold_from:
        return _calibrate_from_development(args)
    if args.record:
        raise ConfigError("--record needs --threshold-from (a labelled development run)")
    engine = LivenessEngine.load(args.model, detector=options.detector(args))
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
    problem = implausible(result)
    if problem and not args.force:
        raise ConfigError(problem + "; nothing written")
    if problem:
        log.warning("%s; written as --force asks", problem)
    if args.output:
        from liveness.resources import model_location

        card = write_calibrated(model_location(args.model), result, args.output)
        log.info("calibrated copy of the model: %s (use it with --model)", card)
    return 0


def _calibrate_from_development(args: argparse.Namespace) -> int:
    from liveness.calibrate import from_development, write_calibrated
    from liveness.resources import model_location

    result = from_development(args.threshold_from, args.record)
    for name, found in result.results.items():
        frame, video = found["frame_level"], found["video_level"] or {}
        log.info(
            "%s at threshold %.4f: frame APCER %s BPCER %s AUC %s; video ACER %s",
            name,
            result.threshold,
            options.fmt(frame["apcer"]),
            options.fmt(frame["bpcer"]),
            options.fmt(frame["auc"]),
            options.fmt(video.get("acer")),
        )
    if args.output:
        card = write_calibrated(model_location(args.model), result, args.output)
        log.info("copy of the model with this threshold and these numbers in its card: %s", card)
    return 0


def _check_output(args: argparse.Namespace) -> None:
    """The calibrated copy's folder is writable and holds no card of that name (unless --overwrite)."""
    if not args.output:
        return
    from liveness.cards import CARD_SUFFIX, model_stem
    from liveness.outputs import check_output_folder
    from liveness.resources import model_location

    card_name = model_stem(model_location(args.model)).name + CARD_SUFFIX
    check_output_folder(args.output, (card_name,), args.overwrite)
