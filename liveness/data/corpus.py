"""A training corpus of faces from many collections, each face boxed the project's way.

Sources are the approved catalogue (public tutorial datasets pinned to
commits, read from local git mirrors) and the shared Replay-Attack and NUAA
frames. Every candidate file is hashed before it is decoded: files on the
held-out list are dropped (they judge the project), and a file seen in an
earlier source is a duplicate. Faces are found by the engine's detector; in a
YOLO frame the detected face must overlap the dataset's own box, so a live
person beside a replay screen is never taken for the attack. The corpus is a
manifest of rows pointing at the original files with the face box, so
training crops every face exactly as the engine will, at any context.

Nothing of the corpus belongs in the repository: it is biometric data of
private people with no licence to redistribute.
"""

from __future__ import annotations

import csv
import logging
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from tqdm import tqdm

from liveness.data.yolo import (
    MIN_LABEL_OVERLAP,
    NormBox,
    file_sha256,
    label_file_for,
    label_mapping,
    parse_label_file,
    to_pixels,
)
from liveness.detect import FaceDetector
from liveness.errors import DatasetError, InputError
from liveness.io.media import read_image
from liveness.preprocess import iou
from liveness.types import Face

log = logging.getLogger(__name__)

KEPT_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".txt", ".yaml", ".yml")


@dataclass(frozen=True)
class CatalogueRow:
    """One approved repository (see the catalogue's README for the columns)."""

    source: str
    kind: str
    repo: str
    commit: str
    root: str
    real_glob: str
    spoof_glob: str
    label_format: str
    family: str
    notes: str

    @property
    def name(self) -> str:
        return self.family


@dataclass(frozen=True)
class Candidate:
    """A file that may give one training face, and what is known about it."""

    path: Path
    label: str
    group: str
    yolo_boxes: tuple[NormBox, ...] | None = None  # None: the file has no box labels
    whole_is_face: bool = False  # a tight face crop: its whole area is a face box
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class SourceTable:
    """What one source gave: faces per class, groups, and every skipped file with why."""

    name: str
    kind: str
    real: int = 0
    spoof: int = 0
    groups: set[str] = field(default_factory=set)
    skipped: Counter = field(default_factory=Counter)

    def as_row(self) -> dict[str, str]:
        return {
            "source": self.name,
            "kind": self.kind,
            "real": str(self.real),
            "spoof": str(self.spoof),
            "groups": str(len(self.groups)),
            "skipped": "; ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()) if n) or "none",
        }


def read_catalogue(path: Path) -> list[CatalogueRow]:
    """The catalogue's `sources.csv` as rows; a clear error if its columns changed."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    wanted = set(CatalogueRow.__dataclass_fields__)
    if not rows or not wanted <= set(rows[0]):
        raise DatasetError(f"{path}: expected columns {sorted(wanted)}")
    return [CatalogueRow(**{k: r[k] for k in wanted}) for r in rows]


def read_heldout(path: Path) -> set[str]:
    """The sha256 digests of files kept for judging: never trained, tuned or selected on."""
    return {line.strip().lower() for line in Path(path).read_text().split() if line.strip()}


def mirror_of(mirrors: Path, repo: str) -> Path | None:
    """The bare git directory that the fetch tool made for `owner/name`, if present."""
    for candidate in (mirrors / repo.replace("/", "+") / "repo", mirrors / repo.replace("/", "+")):
        if (candidate / "HEAD").is_file():
            return candidate
    return None


def extract_row(row: CatalogueRow, git_dir: Path, dest: Path) -> int:
    """Write the row's images, label files and yamls under `root` at the pinned commit into `dest`.

    Returns the number of files whose objects the mirror lacks (large files a
    mirror may list without holding). Done once: a complete extraction is reused.
    """
    done = dest / ".complete"
    if done.is_file():
        return int(done.read_text() or 0)
    listing = _git(git_dir, "ls-tree", "-r", "-z", row.commit, "--", row.root)
    entries = [e.split("\t", 1) for e in listing.decode().split("\0") if e]
    blobs = [(meta.split()[2], path) for meta, path in entries if meta.split()[1] == "blob"]
    blobs = [(sha, path) for sha, path in blobs if path.lower().endswith(KEPT_SUFFIXES)]
    missing = 0
    for sha, path in tqdm(blobs, desc=row.family[:40], unit="file", leave=False):
        try:
            data = _git(git_dir, "cat-file", "blob", sha)
        except DatasetError:
            missing += 1
            continue
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    dest.mkdir(parents=True, exist_ok=True)
    done.write_text(str(missing))
    return missing


def _git(git_dir: Path, *args: str) -> bytes:
    result = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True, check=False)
    if result.returncode != 0:
        raise DatasetError(f"git {args[0]} in {git_dir} failed: {result.stderr.decode().strip()[:200]}")
    return result.stdout


def catalogue_candidates(row: CatalogueRow, checkout: Path) -> list[Candidate]:
    """The row's labelled files: by label file for `yolo:names=...`, else by its folder globs."""
    if row.label_format.startswith("yolo:names="):
        names = row.label_format.split("=", 1)[1].split(",")
        return _yolo_candidates(row, checkout, label_mapping(names, row.repo))
    if row.label_format != "folder":
        raise DatasetError(f"{row.repo}: unknown label_format {row.label_format!r}")
    found = []
    for label, pattern in (("real", row.real_glob), ("spoof", row.spoof_glob)):
        for path in _glob(checkout, pattern):
            boxes = None
            if row.kind == "yolo":
                label_file = label_file_for(path)
                parsed = parse_label_file(label_file, {0: "spoof", 1: "real"}) if label_file else None
                boxes = parsed[1] if parsed else ()
            found.append(Candidate(path, label, row.family, boxes, whole_is_face=row.kind == "class-folders"))
    return found


def _yolo_candidates(row: CatalogueRow, checkout: Path, mapping: dict[int, str]) -> list[Candidate]:
    found = []
    root = checkout / row.root
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
        label_file = label_file_for(path)
        parsed = parse_label_file(label_file, mapping) if label_file else None
        if parsed is not None:
            found.append(Candidate(path, parsed[0], row.family, parsed[1]))
    return found


def _glob(checkout: Path, pattern: str) -> list[Path]:
    """Files matching a repository-relative glob whose `*` does not cross `/`."""
    wanted = PurePosixPath(pattern)
    base = checkout / wanted.parts[0]
    return sorted(
        p
        for p in base.rglob("*")
        if p.is_file()
        and len(PurePosixPath(p.relative_to(checkout).as_posix()).parts) == len(wanted.parts)
        and PurePosixPath(p.relative_to(checkout).as_posix()).match(pattern)
    )


def index_candidates(index: Path, group_prefix: str) -> list[Candidate]:
    """Rows of a shared dataset index (`path,label,subject,...`) as candidates, grouped by subject."""
    with open(index, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    carried = ("attack", "attack_medium", "attack_content", "split", "video_id", "session")
    return [
        Candidate(
            index.parent / r["path"],
            "real" if r["label"] == "real" else "spoof",
            f"{group_prefix}:{r.get('subject') or 'all'}",
            extra={k: r[k] for k in carried if r.get(k)},
        )
        for r in rows
    ]


def evenly(items: list, limit: int | None) -> list:
    """At most `limit` items spread evenly over the list (frames in time order: a subsample
    in time, since neighbouring video frames are near-copies)."""
    if limit is None or len(items) <= limit:
        return items
    picks = np.linspace(0, len(items) - 1, limit).round().astype(int)
    return [items[i] for i in picks]


def capped(rows: list[dict[str, str]], cap: int | None) -> list[dict[str, str]]:
    """At most `cap` manifest rows per class and source, spread evenly. A source's picks do not
    depend on the other rows, so every selection of sources takes the same faces of each."""
    by_key: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_key[(r["source_name"], r["label"])].append(r)
    return [r for key in sorted(by_key) for r in evenly(by_key[key], cap)]


class CorpusBuilder:
    """Hash, deduplicate, cap and box the candidates of one source after another."""

    def __init__(self, detector: FaceDetector, heldout: set[str], cap_per_class: int | None) -> None:
        self.detector = detector
        self.heldout = heldout
        self.cap = cap_per_class
        self.seen: set[str] = set()
        self.rows: list[dict[str, str]] = []
        self.tables: list[SourceTable] = []

    def add_source(self, name: str, kind: str, candidates: Iterable[Candidate]) -> SourceTable:
        table = SourceTable(name, kind)
        kept = []
        for c in candidates:
            digest = file_sha256(c.path)
            if digest in self.heldout:
                table.skipped["held out for judging"] += 1
            elif digest in self.seen:
                table.skipped["duplicate of an earlier file"] += 1
            else:
                self.seen.add(digest)
                kept.append((c, digest))
        for label in ("real", "spoof"):
            of_label = [k for k in kept if k[0].label == label]
            chosen = evenly(of_label, self.cap)
            table.skipped["over the per-class cap"] += len(of_label) - len(chosen)
            for candidate, digest in tqdm(chosen, desc=f"{name[:30]} {label}", unit="img", leave=False):
                self._add_face(name, candidate, digest, table)
        if table.real + table.spoof == 0:
            log.warning("source %s gave no faces (%s); skipped", name, table.as_row()["skipped"])
        self.tables.append(table)
        return table

    def _add_face(self, name: str, c: Candidate, digest: str, table: SourceTable) -> None:
        try:
            image = read_image(c.path)
        except InputError as exc:
            log.warning("skipping %s", exc)
            table.skipped["unreadable"] += 1
            return
        face, why = self._box(image, c)
        if face is None:
            table.skipped[why] += 1
            return
        height, width = image.shape[:2]
        self.rows.append(
            {
                "path": str(c.path.resolve()),
                "label": c.label,
                "subject": c.group,
                "source_name": name,
                "x": str(face.x),
                "y": str(face.y),
                "w": str(face.w),
                "h": str(face.h),
                "frame_w": str(width),
                "frame_h": str(height),
                "confidence": f"{face.confidence:.4f}",
                "box_from": why,
                "sha256": digest,
                **c.extra,
            }
        )
        table.groups.add(c.group)
        if c.label == "real":
            table.real += 1
        else:
            table.spoof += 1

    def _box(self, image: np.ndarray, c: Candidate) -> tuple[Face | None, str]:
        """The detected face to keep and how it was chosen, or None and why not."""
        height, width = image.shape[:2]
        faces = self.detector.detect(image)
        if c.yolo_boxes is not None:
            if len(c.yolo_boxes) != 1:
                return None, "not exactly one labelled box"
            target = to_pixels(c.yolo_boxes[0], width, height)
            best = max(faces, key=lambda f: iou(f.box, target), default=None) if target else None
            if best is None or iou(best.box, target) < MIN_LABEL_OVERLAP:
                return None, "no detected face on the labelled box"
            return best, "detector"
        if faces:
            return faces[0], "detector"
        if c.whole_is_face:  # the tutorial's detector already cut this face without margin
            return Face(0, 0, width, height, 1.0), "whole crop"
        return None, "no face found"


def table_markdown(tables: list[SourceTable]) -> str:
    """The per-source table of a corpus build, for its docs page."""
    lines = [
        "| source | kind | real faces | spoof faces | groups | skipped files (why) |",
        "|---|---|---|---|---|---|",
    ]
    for t in tables:
        r = t.as_row()
        lines.append(
            f"| {r['source']} | {r['kind']} | {r['real']} | {r['spoof']} | {r['groups']} | {r['skipped']} |"
        )
    total_real, total_spoof = sum(t.real for t in tables), sum(t.spoof for t in tables)
    lines.append(f"| **all** | | {total_real} | {total_spoof} | {sum(len(t.groups) for t in tables)} | |")
    return "\n".join(lines)
