"""Commands that make model files: `ensemble` (seeds as one), `import-onnx` (a published model), `export`."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from liveness.cli import options

log = logging.getLogger("liveness")


def add_ensemble(sub: argparse._SubParsersAction) -> None:
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
    p.set_defaults(run=run_ensemble)


def run_ensemble(args: argparse.Namespace) -> int:
    from liveness.ensemble import make_ensemble

    card = make_ensemble(args.model, args.output, args.name)
    log.info("wrote %s (use it with --model)", card)
    return 0


def add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a .keras model to LiteRT (.tflite, the engine's default) or ONNX",
        description="Write NAME.tflite (default) or NAME.onnx beside NAME.keras and record its sha256 in "
        "the card. ONNX export needs the onnx extra (tf2onnx); the engine runs it with --runtime onnx.",
    )
    p.add_argument("--model", "-m", required=True, help="the .keras file; its card must lie beside it")
    p.add_argument("--format", choices=("tflite", "onnx"), default="tflite", help="(default: tflite)")
    p.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    from liveness.export import export_model

    log.info("wrote %s", export_model(Path(args.model), args.format))
    return 0


IMPORT_EXAMPLE = """example (the CelebA-Spoof MiniFASNet of ../shared/models/celeba-minifasnet, whose
README gives these conventions):
  liveness import-onnx best_model.onnx --input-size 128 --crop-scale 1.5 --crop-rule square-reflect \\
      --resize lanczos --color-order RGB --input-range 0-1 --layout NCHW --real-index 0 \\
      --output models/celeba
  liveness check frame.jpg --model models/celeba/best_model.card.json
"""


def add_import_onnx(sub: argparse._SubParsersAction) -> None:
    from liveness.cards import CROP_RULES, LAYOUTS, RESIZES

    p = sub.add_parser(
        "import-onnx",
        help="run a published ONNX face-PAD model through the engine: copy it and write its card",
        description="Copy an ONNX face anti-spoofing model (or the members of one, e.g. the Silent-Face "
        "pair, each with its own --crop-scale) into a folder beside a model card that records how "
        "its authors feed it. The model is run once on a grey batch first, so a wrong input size or "
        "layout is refused before anything is written. Then --model FOLDER/NAME.card.json works in "
        "check, demo, evaluate, serve, calibrate and the Python API. Its threshold is 0.5 until "
        "`liveness calibrate` or --threshold sets one: a model's own 0.5 rarely suits res10 faces.",
        epilog=IMPORT_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("models", nargs="+", type=Path, metavar="MODEL.onnx", help="the model, or its members")
    p.add_argument("--output", "-o", required=True, type=Path, help="folder for the copy and its card")
    p.add_argument("--name", help="file name of the imported model (default: the first model's stem)")
    p.add_argument("--input-size", required=True, type=options.positive_int, help="model input side in px")
    p.add_argument(
        "--crop-scale",
        type=float,
        nargs="+",
        default=[1.0],
        help="context: crop side / face box side; one value, or one per model (default: 1.0)",
    )
    p.add_argument(
        "--crop-rule",
        choices=CROP_RULES,
        default="square",
        help="square: the project's (shrunk and shifted to stay in the frame); square-reflect: never "
        "shrunk, the outside mirrored; silentface: the face box's own shape, stretched to the input",
    )
    p.add_argument(
        "--resize",
        choices=RESIZES,
        default="area",
        help="area (default): area shrinking, bilinear enlarging; linear: bilinear both ways; "
        "lanczos: area shrinking, Lanczos-4 enlarging",
    )
    p.add_argument("--color-order", choices=("RGB", "BGR"), default="RGB", help="(default: RGB)")
    p.add_argument(
        "--input-range", choices=("0-1", "0-255"), default="0-1", help="pixel range (default: 0-1)"
    )
    p.add_argument("--layout", choices=LAYOUTS, default="NCHW", help="(default: NCHW)")
    p.add_argument("--real-index", type=int, default=0, help="which output means 'live' (default: 0)")
    p.add_argument(
        "--outputs",
        choices=("auto", "logits", "probabilities"),
        default="auto",
        help="auto (default): probabilities if the model's answers sum to 1, else logits (softmax applied)",
    )
    p.add_argument("--threshold", type=options.probability, help="decision threshold (default: 0.5)")
    p.add_argument("--threshold-source", help="where --threshold comes from, for the card")
    p.add_argument(
        "--terms", default="", help="the model's licence and its training data's terms, for the card"
    )
    p.add_argument("--overwrite", action="store_true", help="replace files of the same name in --output")
    p.set_defaults(run=run_import_onnx)


def run_import_onnx(args: argparse.Namespace) -> int:
    from liveness.onnx_models import OnnxConventions, import_onnx

    conventions = OnnxConventions(
        input_size=args.input_size,
        crop_scales=tuple(args.crop_scale),
        crop_rule=args.crop_rule,
        resize=args.resize,
        color_order=args.color_order,
        input_range=args.input_range,
        layout=args.layout,
        real_index=args.real_index,
        outputs=args.outputs,
        threshold=args.threshold,
        threshold_source=args.threshold_source,
        terms=args.terms,
    )
    name = args.name or args.models[0].name.removesuffix(".onnx")
    card = import_onnx(args.models, args.output, name, conventions, args.overwrite)
    log.info("wrote %s (use it with --model)", card)
    return 0
