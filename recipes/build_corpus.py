"""Build the multi-source training corpus: the shared datasets and the approved catalogue.

    python recipes/build_corpus.py --mirrors /work/.mirror --output /work/corpus

Reads Replay-Attack train and devel and NUAA from ../shared/data, and every
catalogue row (../shared/data/catalogue/sources.csv) from a local git mirror
of its repository at the pinned commit (fetch them first; a row without a
mirror is skipped with a line). Files on the held-out list are dropped before
anything is decoded, duplicates across sources are dropped, at most `--cap`
faces per class and source are kept (spread evenly in time), and every face
is boxed by the engine's detector. Writes, below OUTPUT only (never inside the
project, whose licence forbids holding this data):

- `src/<family>/...`   the catalogue rows' files at their commits;
- `manifest.csv`       one row per face: original file, label, group (subject or
                       repository), source, face box, sha256;
- `sources.md`, `sources.csv`  the table per source (faces, groups, skipped files and why);
- `config.json`        the resolved configuration.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from liveness.data.corpus import (
    CorpusBuilder,
    catalogue_candidates,
    extract_row,
    index_candidates,
    mirror_of,
    read_catalogue,
    read_heldout,
    table_markdown,
)
from liveness.data.manifest import write_rows
from liveness.detect import create_detector
from liveness.errors import ConfigError, LivenessError
from liveness.resources import shared_dir

log = logging.getLogger("build_corpus")


def main() -> int:
    args = _parser().parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except LivenessError as exc:
        log.error("%s", exc)
        return 2


def _run(args: argparse.Namespace) -> int:
    shared = args.shared / "data"
    project = Path(__file__).resolve().parents[1]
    if args.output.resolve().is_relative_to(project):
        raise ConfigError(f"--output {args.output} is inside the project: the corpus must stay outside it")
    args.output.mkdir(parents=True, exist_ok=True)
    started = time.time()
    heldout = read_heldout(shared / "catalogue" / "heldout_sha256.txt")
    log.info("%d held-out files will be dropped wherever they appear", len(heldout))
    builder = CorpusBuilder(create_detector(args.detector), heldout, args.cap)
    for split in ("train", "devel"):
        candidates = [
            c
            for c in index_candidates(shared / "replay-attack" / "index.csv", "replay-attack")
            if c.extra.get("split") == split
        ]
        builder.add_source(f"replay-attack-{split}", "frames", candidates)
    builder.add_source("nuaa", "frames", index_candidates(shared / "nuaa" / "index.csv", "nuaa"))
    for row in read_catalogue(shared / "catalogue" / "sources.csv"):
        git_dir = mirror_of(args.mirrors, row.repo)
        if git_dir is None:
            log.warning("no mirror of %s under %s: fetch it first; skipped", row.repo, args.mirrors)
            continue
        checkout = args.output / "src" / row.family
        missing = extract_row(row, git_dir, checkout)
        if missing:
            log.warning("%s: %d files absent from the mirror", row.repo, missing)
        builder.add_source(row.family, row.kind, catalogue_candidates(row, checkout))
    write_rows(args.output / "manifest.csv", builder.rows)
    write_rows(args.output / "sources.csv", [t.as_row() for t in builder.tables])
    (args.output / "sources.md").write_text(table_markdown(builder.tables) + "\n")
    config = {
        "shared": str(args.shared),
        "mirrors": str(args.mirrors),
        "detector": args.detector,
        "cap_per_class": args.cap,
        "heldout_listed": len(heldout),
        "faces": len(builder.rows),
        "minutes": round((time.time() - started) / 60, 1),
    }
    (args.output / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(table_markdown(builder.tables))
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mirrors", type=Path, required=True, help="folder of the fetched git mirrors")
    p.add_argument("--output", type=Path, required=True, help="corpus folder (outside the project)")
    p.add_argument(
        "--shared",
        type=Path,
        default=shared_dir(),
        help="the shared data folder (default: $LIVENESS_SHARED_DIR or ../shared)",
    )
    p.add_argument("--detector", default="res10", help="face detector (default: res10)")
    p.add_argument("--cap", type=int, default=400, help="most faces per class and source (default: 400)")
    return p


if __name__ == "__main__":
    sys.exit(main())
