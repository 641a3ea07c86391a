"""YOLO-format liveness datasets, as the YOLO liveness tutorial and its forks keep them.

Such a dataset is a folder of full camera frames, each `x.jpg` with a label
file `x.txt` beside it (or in a sibling `labels/` folder for `images/x.jpg`)
holding one line `class cx cy w h` per face, the box normalised to 0-1. The
class ids index the `names` list of the folder's `data.yaml`; the tutorial
writes `['fake', 'real']`, but forks differ, so the order is always read from
the yaml and never assumed. The tutorial copies every frame into several
folders, so images are deduplicated by content.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from liveness.errors import DatasetError
from liveness.io.media import IMAGE_SUFFIXES, image_size
from liveness.labels import ATTACK_NAMES, REAL_NAMES

log = logging.getLogger(__name__)

YAML_SUFFIXES = (".yaml", ".yml")
MIN_LABEL_OVERLAP = 0.3  # IoU a detected face needs with a label box to be that box's face

# (cx, cy, w, h), each a fraction of the image width or height
NormBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class YoloImage:
    """One frame of a YOLO dataset: its label and the face boxes of its label file."""

    path: Path
    label: str  # "real" or "spoof"
    boxes: tuple[NormBox, ...]


def is_yolo_dataset(folder: Path) -> bool:
    """A folder with a yaml that names classes: what the YOLO tutorial writes."""
    return Path(folder).is_dir() and bool(_yaml_files(Path(folder)))


def class_names(folder: Path) -> list[str]:
    """The `names` list of the dataset's yaml files; refuses files that disagree.

    Forks keep several yamls (`data.yaml`, `dataOffline.yaml`); one fork has two
    with opposite orders, and only its frames can tell which is right, so
    disagreement is an error that asks for the order to be given.
    """
    found: dict[tuple[str, ...], list[Path]] = {}
    for path in _yaml_files(folder):
        found.setdefault(tuple(_names_in(path)), []).append(path)
    if not found:
        raise DatasetError(f"{folder}: no data.yaml with a 'names' list of classes")
    if len(found) > 1:
        listing = "; ".join(f"{', '.join(p.name for p in paths)}: {list(n)}" for n, paths in found.items())
        raise DatasetError(
            f"{folder}: its yaml files disagree on the class order ({listing}); "
            "give the order that the frames show, e.g. names=fake,real"
        )
    return list(next(iter(found)))


def label_mapping(names: list[str], where: str = "") -> dict[int, str]:
    """Class id -> 'real' / 'spoof'; one clear error unless the names are a real/fake pair."""
    mapping = {}
    for i, name in enumerate(names):
        key = str(name).strip().lower()
        if key in REAL_NAMES:
            mapping[i] = "real"
        elif key in ATTACK_NAMES:
            mapping[i] = "spoof"
    reals = [i for i, v in mapping.items() if v == "real"]
    if len(mapping) != len(names) or len(reals) != 1 or len(names) < 2:
        raise DatasetError(
            f"{where or 'dataset'}: class names {list(names)} are not a real/fake pair "
            f"(expected one of {sorted(REAL_NAMES)} and attack names such as {sorted(ATTACK_NAMES)})"
        )
    return mapping


def read_yolo_dataset(folder: str | Path, names: list[str] | None = None) -> list[YoloImage]:
    """Every distinct labelled frame below `folder` (first copy by sorted path wins).

    A frame's label is the class of its boxes; a frame whose boxes disagree on
    the class, or whose label file is empty or unreadable, has no label and is
    skipped with a count in the log.
    """
    folder = Path(folder)
    mapping = label_mapping(names or class_names(folder), str(folder))
    images, seen, skipped = [], set(), {"no label file": 0, "empty or mixed labels": 0, "duplicate": 0}
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()):
        label_file = label_file_for(path)
        if label_file is None:
            skipped["no label file"] += 1
            continue
        parsed = parse_label_file(label_file, mapping)
        if parsed is None:
            skipped["empty or mixed labels"] += 1
            continue
        digest = file_sha256(path)
        if digest in seen:
            skipped["duplicate"] += 1
            continue
        seen.add(digest)
        images.append(YoloImage(path, parsed[0], parsed[1]))
    log.info(
        "%s: %d distinct labelled frames; skipped %s",
        folder,
        len(images),
        ", ".join(f"{n} {why}" for why, n in skipped.items() if n) or "none",
    )
    return images


def single_box_frames(folder: str | Path) -> list[tuple[YoloImage, tuple[int, int, int, int]]]:
    """Distinct frames with exactly one label box, each with that box in pixels: the frames
    train, evaluate and gather use (several boxes leave the labelled face ambiguous)."""
    found = []
    for image in read_yolo_dataset(folder):
        size = image_size(image.path) if len(image.boxes) == 1 else None
        box = to_pixels(image.boxes[0], *size) if size else None
        if box is not None:
            found.append((image, box))
    return found


def label_file_for(image: Path) -> Path | None:
    """`x.txt` beside `x.jpg`, else `../labels/x.txt` for an image in an `images/` folder."""
    beside = image.with_suffix(".txt")
    if beside.is_file():
        return beside
    if image.parent.name == "images":
        sibling = image.parent.parent / "labels" / (image.stem + ".txt")
        if sibling.is_file():
            return sibling
    return None


def parse_label_file(path: Path, mapping: dict[int, str]) -> tuple[str, tuple[NormBox, ...]] | None:
    """(label, boxes) of a label file, or None when it is empty, malformed or mixes classes."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError:
        return None
    labels, boxes = set(), []
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        try:
            cls, values = int(float(parts[0])), tuple(float(v) for v in parts[1:5])
        except ValueError:
            return None
        if cls not in mapping or len(values) != 4 or min(values[2:]) <= 0:
            return None
        labels.add(mapping[cls])
        boxes.append(values)
    if len(labels) != 1:
        return None
    return labels.pop(), tuple(boxes)  # type: ignore[return-value]


def to_pixels(box: NormBox, width: int, height: int) -> tuple[int, int, int, int] | None:
    """A normalised YOLO box as an integer `(x, y, w, h)` clipped to the image, or None if outside."""
    cx, cy, w, h = box
    x0, y0 = max(0, round((cx - w / 2) * width)), max(0, round((cy - h / 2) * height))
    x1, y1 = min(width, round((cx + w / 2) * width)), min(height, round((cy + h / 2) * height))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1 - x0, y1 - y0


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes (before any decoding), as held-out lists give it."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _yaml_files(folder: Path) -> list[Path]:
    found = []
    for suffix in YAML_SUFFIXES:
        found += [p for p in folder.rglob(f"*{suffix}") if p.is_file() and _names_in(p)]
    return sorted(found)


def _names_in(path: Path) -> list[str]:
    """The `names` of a yaml file (a list, or a {id: name} map), or [] if it has none."""
    import yaml

    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, yaml.YAMLError):
        return []
    names = content.get("names") if isinstance(content, dict) else None
    if isinstance(names, dict):
        names = [names[k] for k in sorted(names)]
    return [str(n) for n in names] if isinstance(names, list) else []
