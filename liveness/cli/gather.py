"""`liveness gather`: gather face crops from videos, images, dataset indexes or YOLO folders."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from liveness.cli import options

log = logging.getLogger("liveness")


def add(sub: argparse._SubParsersAction) -> None:
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
        type=options.positive_int,
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
    p.add_argument("--max-frames", type=options.positive_int, help="stop after this many processed frames")
    options.add_detector_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from liveness.data.gather import GatherOptions, gather

    gather_options = GatherOptions(
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
    summary = gather(args.input, Path(args.output), options.detector(args), gather_options)
    log.info("%s", summary.describe())
    return 0
