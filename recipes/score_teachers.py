"""Score every corpus face once with the two references and the shipped model; cache the scores.

    python recipes/score_teachers.py --corpus /work/corpus

Writes CORPUS/teachers.csv with one row per face: `path`, `celeba` (the
CelebA-Spoof MiniFASNet, its own 1.5x reflect-padded crop), `silentface`
(the Silent-Face MiniFASNet pair, 2.7x and 4.0x context), `shipped` (the
project's default model) and `teacher`, the mean of the two references: the
soft target `liveness train --teacher-scores` reads. Each reference sees the
original frame and the corpus face box, so every system judges the same
faces. The references are never shipped nor used to initialise a model.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tqdm import tqdm

from liveness.data.manifest import face_box_in_file, read_rows, write_rows
from liveness.engine import LivenessEngine
from liveness.errors import InputError, LivenessError
from liveness.evaluate.scorers import EngineScorer, reference_scorer
from liveness.io.media import read_image
from liveness.resources import shared_dir
from liveness.types import Face

log = logging.getLogger("score_teachers")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True, help="folder with the corpus manifest.csv")
    p.add_argument(
        "--shared",
        type=Path,
        default=shared_dir(),
        help="the shared folder holding models/ (default: $LIVENESS_SHARED_DIR or ../shared)",
    )
    p.add_argument(
        "--reuse",
        type=Path,
        help="another scored corpus: a face with the same file digest and box takes its scores "
        "instead of being scored again (say, a corpus built with a higher --cap)",
    )
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        known = scored_before(args.reuse) if args.reuse else {}
        scorers = {
            "celeba": reference_scorer("celeba", args.shared / "models"),
            "silentface": reference_scorer("silentface", args.shared / "models"),
            "shipped": EngineScorer(LivenessEngine.load(detector=None, detector_type="res10")),
        }
        rows = read_rows(args.corpus / "manifest.csv")
        out = [
            {"path": row["path"], **known[face_key(row)]} if face_key(row) in known else _scores(row, scorers)
            for row in tqdm(rows, desc="teachers", unit="face")
        ]
    except LivenessError as exc:
        log.error("%s", exc)
        return 2
    kept = [r for r in out if r is not None]
    write_rows(args.corpus / "teachers.csv", kept)
    reused = sum(face_key(row) in known for row in rows)
    log.info(
        "%d faces scored (%d reused, %d new), %d unreadable -> %s",
        len(kept), reused, len(kept) - reused, len(out) - len(kept), args.corpus,
    )  # fmt: skip
    return 0


def face_key(row: dict[str, str]) -> tuple[str, ...]:
    """What a reference's score depends on: the file's content and the face box in it."""
    return (row["sha256"], *(row[k] for k in ("x", "y", "w", "h")))


def scored_before(corpus: Path) -> dict[tuple[str, ...], dict[str, str]]:
    """Scores of another corpus's faces by face_key (its manifest joined with its teachers.csv)."""
    by_path = {r.pop("path"): r for r in read_rows(corpus / "teachers.csv")}
    rows = read_rows(corpus / "manifest.csv")
    known = {face_key(r): by_path[r["path"]] for r in rows if r["path"] in by_path}
    log.info("%d faces already scored in %s", len(known), corpus)
    return known


def _scores(row: dict[str, str], scorers: dict) -> dict[str, str] | None:
    box = face_box_in_file(row)
    try:
        image = read_image(row["path"])
    except InputError as exc:
        log.warning("skipping %s", exc)
        return None
    face = [Face(*box, 1.0)]
    scores = {name: float(scorer.score(image, face)[0]) for name, scorer in scorers.items()}
    scores["teacher"] = (scores["celeba"] + scores["silentface"]) / 2
    return {"path": row["path"], **{k: f"{v:.6f}" for k, v in scores.items()}}


if __name__ == "__main__":
    sys.exit(main())
