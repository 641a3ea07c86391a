"""Datasets of face crops for training, and splits that never leak a video.

A dataset is either a folder of class subfolders (`real/`, `fake/` or
`spoof/`, each optionally with the `manifest.csv` that `gather` writes), a
folder with one `manifest.csv` at its top, a manifest CSV itself
(`path,label` and optionally `subject`, `video_id`, `frame`, `margin`,
`source` and the face box `x,y,w,h`), or a YOLO-format dataset (full frames
with one label file each, see `liveness.data.yolo`).

A sample with a face box is cropped at load time, the way the engine crops
a face (`preprocess.face_crop`), so full frames and wide crops can train a
model of any context.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from liveness.data.manifest import MANIFEST_NAME, face_box_in_file, read_rows
from liveness.data.yolo import is_yolo_dataset, single_box_frames
from liveness.errors import DatasetError, InputError
from liveness.io.media import IMAGE_SUFFIXES, list_images, read_image
from liveness.labels import canonical
from liveness.preprocess import model_face

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    """One face crop on disk and what is known about it."""

    path: Path
    label: str
    subject: str = ""
    video_id: str = ""
    frame: int = 0
    margin: float = 1.0
    domain: int = 0  # which of several training datasets it came from
    source: str = ""  # the collection it belongs to, e.g. one repository or dataset
    box: tuple[int, int, int, int] | None = None  # the face in the file; None: the file is the crop
    detector: str = ""  # whose boxes cut it (gather's manifest); "" when the manifest does not say


def load_samples(dataset: str | Path, require_both_classes: bool = True) -> list[Sample]:
    """Every sample of a dataset folder or manifest; refuses empty (and, unless told, one-class) sets."""
    dataset = Path(dataset)
    if not dataset.exists():
        raise DatasetError(f"dataset not found: {dataset}")
    if dataset.is_file():
        samples = _from_manifest(dataset)
    elif (dataset / MANIFEST_NAME).is_file():
        samples = _from_manifest(dataset / MANIFEST_NAME)
    elif is_yolo_dataset(dataset):
        samples = _from_yolo(dataset)
    else:
        samples = _from_class_folders(dataset)
    if not samples:
        raise DatasetError(f"{dataset} holds no images")
    counts = Counter(s.label for s in samples)
    if require_both_classes:
        _require_both_classes(counts, str(dataset))
    log.info("dataset %s: %s", dataset, ", ".join(f"{n} {c}" for c, n in sorted(counts.items())))
    return samples


def _require_both_classes(counts: Counter, what: str) -> None:
    if len(counts) < 2:
        raise DatasetError(
            f"{what} has only one class ({', '.join(counts)}); training needs real and attack "
            "examples, e.g. DATASET/real and DATASET/fake"
        )


def load_many(datasets: list[str | Path], live_only_ok: bool = False) -> list[Sample]:
    """Several datasets as one: ids are prefixed so they never collide, and every attack
    label ('fake', 'spoof', ...) becomes 'spoof' so the datasets share two classes.

    One of them may hold a single class, say live faces from the camera the model
    will serve: only the union needs both real and attack examples, unless
    `live_only_ok` (attacks will be simulated from the live faces), when live
    faces alone will do.
    """
    if len(datasets) == 1:
        samples = load_samples(datasets[0], require_both_classes=False)
        _require_classes(samples, str(datasets[0]), live_only_ok)
        return samples
    samples = []
    for i, dataset in enumerate(datasets):
        tag = f"d{i}:"
        samples += [
            dataclasses.replace(
                s,
                label="real" if s.label == "real" else "spoof",
                subject=tag + s.subject if s.subject else "",
                video_id=tag + s.video_id if s.video_id else "",
                domain=i,
            )
            for s in load_samples(dataset, require_both_classes=False)
        ]
    _require_classes(samples, " + ".join(str(d) for d in datasets), live_only_ok)
    return samples


def _require_classes(samples: list[Sample], what: str, live_only_ok: bool) -> None:
    counts = Counter(s.label for s in samples)
    if not (live_only_ok and set(counts) == {"real"}):
        _require_both_classes(counts, what)


def _from_manifest(manifest: Path) -> list[Sample]:
    rows = read_rows(manifest)
    if rows and not {"path", "label"} <= set(rows[0]):
        raise DatasetError(f"{manifest}: expected columns 'path' and 'label', got {sorted(rows[0])}")
    missing = [r["path"] for r in rows if not (manifest.parent / r["path"]).is_file()]
    if missing:
        log.warning(
            "%s: %d listed files do not exist and are skipped (first: %s)", manifest, len(missing), missing[0]
        )
    unlabeled = [r["path"] for r in rows if not r.get("label")]
    if unlabeled:
        raise DatasetError(f"{manifest}: {len(unlabeled)} rows have no label (first: {unlabeled[0]})")
    return [
        _sample(manifest.parent / r["path"], r["label"], r)
        for r in rows
        if (manifest.parent / r["path"]).is_file()
    ]


def _from_class_folders(root: Path) -> list[Sample]:
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        loose = [p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        hint = " (images lie directly in it)" if loose else ""
        raise DatasetError(f"{root} has no class subfolders such as real/ and fake/{hint}")
    samples: list[Sample] = []
    for folder in folders:
        listed = {}
        if (folder / MANIFEST_NAME).is_file():
            listed = {(folder / r["path"]).resolve(): r for r in read_rows(folder / MANIFEST_NAME)}
        for path in list_images(folder):
            samples.append(_sample(path, folder.name, listed.get(path.resolve(), {})))
    return samples


def _from_yolo(root: Path) -> list[Sample]:
    """Frames with exactly one face box (the tutorial's frames with several are ambiguous);
    the folder is one group, since a tutorial dataset is mostly one person's capture."""
    samples = [
        Sample(image.path, image.label, subject=root.name, source=root.name, box=box)
        for image, box in single_box_frames(root)
    ]
    log.info("%s: %d frames with exactly one face box", root, len(samples))
    return samples


def _sample(path: Path, label: str, row: dict[str, str]) -> Sample:
    label = canonical(label) or label.strip().lower()  # an unknown word is refused with the classes
    frame = row.get("frame", "")
    return Sample(
        path=path,
        label=label,
        subject=row.get("subject", ""),
        video_id=row.get("video_id", ""),
        frame=int(frame) if frame.isdigit() else 0,
        margin=float(row.get("margin") or 1.0),
        source=row.get("source_name", ""),
        box=face_box_in_file(row),
        detector=row.get("detector", ""),
    )


@dataclass(frozen=True)
class Split:
    train: list[int]
    val: list[int]
    how: str


def split_samples(samples: list[Sample], val_fraction: float = 0.25, seed: int = 42) -> Split:
    """Hold out whole subjects (else whole videos) for validation.

    Frames of one video are near-duplicates, so a random split of frames
    measures memory, not liveness. When the groups cannot give every class a
    place on both sides (say, one real and one fake video), each video is cut
    in time instead: its last frames go to validation.
    """
    for key in ("subject", "video_id"):
        groups = [getattr(s, key) for s in samples]
        if all(groups):
            split = _group_split(samples, groups, val_fraction, seed)
            if split is not None:
                return Split(split[0], split[1], f"{key}-disjoint")
    log.warning(
        "cannot hold out whole subjects or videos for every class; validating on the last "
        "%.0f%% of each video's frames instead (optimistic: same people and scenes)",
        val_fraction * 100,
    )
    return _temporal_split(samples, val_fraction)


def group_folds(samples: list[Sample], k: int = 4, seed: int = 42) -> tuple[list[list[int]], str] | None:
    """Whole subjects (else whole videos) dealt into up to `k` folds, largest first to the
    smallest fold after a seeded shuffle, so that every face can be scored by a model fitted
    without its group; None unless every fold and the rest beside it hold both classes."""
    labels = sorted({s.label for s in samples})
    for key in ("subject", "video_id"):
        groups = [getattr(s, key) for s in samples]
        if not all(groups):
            continue
        by_group: dict[str, list[int]] = defaultdict(list)
        for i, g in enumerate(groups):
            by_group[g].append(i)
        names = sorted(by_group)
        random.Random(seed).shuffle(names)
        folds: list[list[int]] = [[] for _ in range(min(k, len(names)))]
        for name in sorted(names, key=lambda n: -len(by_group[n])):
            min(folds, key=len).extend(by_group[name])
        held = [set(f) for f in folds]
        rests = [[i for i in range(len(samples)) if i not in h] for h in held]
        sides = [*folds, *rests]
        if len(folds) >= 2 and all(_has_label(samples, side, lab) for side in sides for lab in labels):
            return [sorted(f) for f in folds], f"{len(folds)} {key} folds"
    return None


def _group_split(
    samples: list[Sample], groups: list[str], val_fraction: float, seed: int
) -> tuple[list[int], list[int]] | None:
    """The held-out group set closest to `val_fraction` with every class on both sides."""
    labels = sorted({s.label for s in samples})
    by_group: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        by_group[g].append(i)
    names = sorted(by_group)
    if len(names) < 2:
        return None
    rng = random.Random(seed)
    best, best_cost = None, float("inf")
    for _ in range(200):
        rng.shuffle(names)
        val_idx: list[int] = []
        for name in names[:-1]:
            enough = len(val_idx) >= val_fraction * len(samples)
            if enough and all(_has_label(samples, val_idx, lab) for lab in labels):
                break
            val_idx.extend(by_group[name])
        val_set = set(val_idx)
        train_idx = [i for i in range(len(samples)) if i not in val_set]
        if not all(_has_label(samples, idx, lab) for idx in (train_idx, val_idx) for lab in labels):
            continue
        cost = abs(len(val_idx) / len(samples) - val_fraction) + _class_skew(samples, val_idx, labels)
        if cost < best_cost:
            best, best_cost = (sorted(train_idx), sorted(val_idx)), cost
    return best


def _has_label(samples: list[Sample], idx: list[int], label: str) -> bool:
    return any(samples[i].label == label for i in idx)


def _class_skew(samples: list[Sample], idx: list[int], labels: list[str]) -> float:
    """How far the class mix of `idx` is from that of the whole set."""
    whole = Counter(s.label for s in samples)
    part = Counter(samples[i].label for i in idx)
    return sum(abs(part[c] / len(idx) - whole[c] / len(samples)) for c in labels)


def _temporal_split(samples: list[Sample], val_fraction: float) -> Split:
    by_video: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(samples):
        by_video[s.video_id or f"{s.label}:{s.path.parent}"].append(i)
    train, val = [], []
    for idx in by_video.values():
        idx.sort(key=lambda i: (samples[i].frame, samples[i].path.name))
        cut = len(idx) - max(1, round(len(idx) * val_fraction)) if len(idx) > 1 else len(idx)
        train.extend(idx[:cut])
        val.extend(idx[cut:])
    if not val:
        raise DatasetError("the dataset is too small to hold out any validation samples")
    return Split(sorted(train), sorted(val), "temporal (per-video, last frames)")


def load_images(
    samples: list[Sample], size: int, crop_scale: float | None = None
) -> tuple[np.ndarray, list[int]]:
    """Crops resized to `size` as an RGB uint8 array; unreadable files are skipped and reported.

    A sample with a face box is cropped `crop_scale` (default: its margin) x the box,
    as the engine crops; one without is taken whole.
    """
    images, kept = [], []
    for i, sample in enumerate(tqdm(samples, desc="loading crops", unit="img", leave=False)):
        try:
            image = read_image(sample.path)
        except InputError as exc:
            log.warning("skipping %s", exc)
            continue
        images.append(model_face(image, sample.box, crop_scale or sample.margin, size))
        kept.append(i)
    if not images:
        raise DatasetError("none of the dataset's images could be read")
    return np.stack(images), kept
