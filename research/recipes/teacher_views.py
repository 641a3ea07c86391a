"""Make augmented views of the corpus faces and have both teachers score every view.

    python research/recipes/teacher_views.py --corpus /work/corpus --views 8 --cap 80

Each face gets `--views` copies (view 0 unchanged, the others jittered on the
whole frame: box, flip, colour, blur, resolution, noise, JPEG; see
`liveness.data.views`). The CelebA-Spoof MiniFASNet and the Silent-Face pair
each score every view with their own crop of it; the student's crop of the
same view (`--crop-scale`, `--input-size`) is stored beside the scores, and
`liveness train --teacher-views BANK` trains on them. The teachers are never
shipped nor used to initialise a model. The bank is written into the corpus
folder (outside the project: it holds faces of private people).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from functools import partial
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from tqdm import tqdm

from liveness.data.corpus import capped
from liveness.data.manifest import face_box_in_file, read_rows
from liveness.data.views import Views, random_view, save_views
from liveness.errors import InputError, LivenessError
from liveness.evaluate.scorers import reference_scorer
from liveness.io.media import read_image
from liveness.preprocess import model_face
from liveness.resources import shared_dir
from liveness.types import Face

log = logging.getLogger("teacher_views")
TEACHERS = ("celeba", "silentface")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True, help="folder with the corpus manifest.csv")
    p.add_argument("--manifest", type=Path, help="the faces to view (default: CORPUS/manifest.csv)")
    p.add_argument("--output", type=Path, help="bank (default: CORPUS/views-c<scale>-s<size>-k<views>.npz)")
    p.add_argument("--views", type=int, default=8, help="views per face, the unchanged face included")
    p.add_argument("--cap", type=int, help="at most this many faces per class and source")
    p.add_argument("--crop-scale", type=float, default=1.5, help="the student's context")
    p.add_argument("--input-size", type=int, default=64, help="the student's input side in pixels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: one a core)")
    p.add_argument("--shared", type=Path, default=shared_dir(), help="the shared folder holding models/")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.views < 1:
        log.error("--views must be at least 1")
        return 2
    out = args.output or args.corpus / f"views-c{args.crop_scale:g}-s{args.input_size}-k{args.views}.npz"
    try:
        rows = capped(read_rows(args.manifest or args.corpus / "manifest.csv"), args.cap)
        reference_scorer(TEACHERS[0], args.shared / "models")  # a missing model fails before the pool
        with Pool(args.workers, initializer=_load_teachers, initargs=(args.shared,)) as pool:
            jobs = pool.imap(partial(_views_of, args=args), enumerate(rows), chunksize=8)
            made = list(tqdm(jobs, total=len(rows), desc="views", unit="face"))
    except LivenessError as exc:
        log.error("%s", exc)
        return 2
    kept = [(row["path"], m) for row, m in zip(rows, made, strict=True) if m is not None]
    images = np.stack([m[0] for _, m in kept])
    scores = {name: np.stack([m[1][name] for _, m in kept]) for name in TEACHERS}
    teacher = np.mean([scores[name] for name in TEACHERS], axis=0)
    views = Views([p for p, _ in kept], images, teacher, args.crop_scale, args.input_size)
    config = {"views": args.views, "cap": args.cap, "seed": args.seed, "teachers": list(TEACHERS)}
    save_views(out, views, scores, config)
    (out.with_suffix(".json")).write_text(json.dumps({"argv": sys.argv, **config}, indent=2) + "\n")
    log.info("%d faces x %d views -> %s (%d unreadable)", len(kept), args.views, out, len(rows) - len(kept))
    return 0


_SCORERS: dict = {}  # each worker process's teachers, loaded once


def _load_teachers(shared: Path) -> None:
    _SCORERS.update({name: reference_scorer(name, shared / "models", threads=1) for name in TEACHERS})


def _views_of(job: tuple[int, dict[str, str]], args: argparse.Namespace) -> tuple | None:
    """The student's crops of a face's views and each teacher's score of them."""
    index, row = job
    scorers = _SCORERS
    try:
        frame = read_image(row["path"])
    except InputError as exc:
        log.warning("skipping %s", exc)
        return None
    box = face_box_in_file(row)
    whole = box is None  # a face without a box is the whole image, to the student and the teachers
    if whole:
        box = (0, 0, frame.shape[1], frame.shape[0])
    rng = np.random.default_rng([args.seed, index])
    crops, scores = [], {name: [] for name in scorers}
    for k in range(args.views):
        image, view_box = (frame, box) if k == 0 else random_view(frame, box, rng)
        crops.append(_student_face(image, view_box, whole, args))
        for name, scorer in scorers.items():
            scores[name].append(float(scorer.score(image, [Face(*view_box, 1.0)])[0]))
    return np.stack(crops), {name: np.array(s) for name, s in scores.items()}


def _student_face(image: np.ndarray, box: tuple[int, int, int, int], whole: bool, args) -> np.ndarray:
    """As `load_images` crops: the face at the student's context, or the whole (jittered) image."""
    if not whole:
        return model_face(image, box, args.crop_scale, args.input_size)
    x, y, w, h = box
    return model_face(image[y : y + h, x : x + w], None, 1.0, args.input_size)


if __name__ == "__main__":
    sys.exit(main())
