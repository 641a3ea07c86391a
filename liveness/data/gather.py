"""Gather face crops from videos, image folders, dataset indexes or a camera.

The output is a folder of crops plus `manifest.csv`, which records for every
crop where it came from (source, frame, box, detector confidence) and, when
known, its label, subject and video. Training reads the manifest to keep
frames of one video, or one person, on the same side of a split.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from liveness.data.manifest import MANIFEST_NAME, read_rows, write_rows
from liveness.data.yolo import MIN_LABEL_OVERLAP, is_yolo_dataset, single_box_frames
from liveness.detect import FaceDetector, boxes_of
from liveness.errors import ConfigError, DatasetError, InputError
from liveness.io.media import Frame, iter_images, iter_video, list_images, video_frame_count
from liveness.labels import ATTACK_NAMES, REAL_NAMES, canonical
from liveness.preprocess import crop, expand_box, iou
from liveness.types import Face

log = logging.getLogger(__name__)

CLASS_FOLDER_NAMES = {*REAL_NAMES, *ATTACK_NAMES}  # an output folder so named also gives the label
CARRIED_COLUMNS = ("attack", "attack_medium", "attack_content", "split", "session")


@dataclass
class GatherOptions:
    """How to turn frames into crops (see `liveness gather --help`)."""

    skip: int = 16
    margin: float = 1.0
    all_faces: bool = False
    overwrite: bool = False
    label: str | None = None
    subject: str | None = None
    video_id: str | None = None
    split: str | None = None
    image_format: str = "png"
    max_frames: int | None = None

    def __post_init__(self) -> None:
        if self.skip < 1:
            raise ConfigError(f"--skip must be at least 1, got {self.skip}")
        if self.margin < 1.0:
            raise ConfigError(f"--margin must be at least 1.0 (the face box itself), got {self.margin}")
        if self.image_format not in ("png", "jpg"):
            raise ConfigError(f"--format must be png or jpg, got {self.image_format}")


@dataclass
class Job:
    """Frames of one source and what is known about them."""

    frames: Iterable[Frame]
    total: int | None
    meta: dict[str, str] = field(default_factory=dict)


@dataclass
class GatherSummary:
    frames: int = 0
    faces_saved: int = 0
    frames_without_face: int = 0
    existing_kept: int = 0
    unreadable: int = 0  # image files skipped because they could not be decoded
    manifest: Path | None = None

    def describe(self) -> str:
        return (
            f"{self.frames} frames read, {self.faces_saved} face crops written, "
            f"{self.frames_without_face} frames without a face, {self.unreadable} unreadable files "
            f"skipped, {self.existing_kept} existing crops kept; manifest: {self.manifest}"
        )

    def skipped(self, path: Path) -> None:
        self.unreadable += 1


def gather(source: str, output: Path, detector: FaceDetector, options: GatherOptions) -> GatherSummary:
    """Detect faces in every `skip`-th frame of `source` and write crops + manifest to `output`."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    manifest = output / MANIFEST_NAME
    rows = {row["path"]: row for row in read_rows(manifest)} if manifest.is_file() else {}
    summary = GatherSummary(manifest=manifest)
    try:
        for job in _jobs(source, output, options, summary.skipped):
            _gather_job(job, output, detector, options, rows, summary)
    finally:
        if rows:
            write_rows(manifest, list(rows.values()))
    if summary.faces_saved == 0 and summary.existing_kept == 0:
        raise InputError(
            f"no face found in {source} ({summary.frames} frames read); "
            "check the input, or lower --confidence"
        )
    return summary


def _gather_job(
    job: Job,
    output: Path,
    detector: FaceDetector,
    options: GatherOptions,
    rows: dict[str, dict[str, str]],
    summary: GatherSummary,
) -> None:
    label = job.meta.get("label", "")
    boxes = boxes_of(detector) or ""
    folder = output / label if job.meta.get("_label_folder") else output
    folder.mkdir(parents=True, exist_ok=True)
    desc = Path(job.meta.get("video_id") or job.meta.get("source", "frames")).name[:40]
    bar = tqdm(job.frames, total=job.total, desc=desc, unit="frame", leave=False, disable=job.total == 1)
    for frame in bar:
        summary.frames += 1
        faces = _matching(detector.detect(frame.image), job.meta.get("_label_box"))
        if not faces:
            summary.frames_without_face += 1
            continue
        height, width = frame.image.shape[:2]
        for k, face in enumerate(faces if options.all_faces else faces[:1]):
            path = folder / _crop_name(job.meta, frame, k, options.image_format)
            rel = path.relative_to(output).as_posix()
            crop_box = expand_box(face.box, options.margin, width, height)
            if path.exists() and not options.overwrite:
                summary.existing_kept += 1
                rows.setdefault(rel, _row(rel, frame, face, crop_box, options, job.meta, boxes))
                continue
            _write_crop(path, crop(frame.image, crop_box))
            rows[rel] = _row(rel, frame, face, crop_box, options, job.meta, boxes)
            summary.faces_saved += 1


def _matching(faces: list[Face], label_box: str | None) -> list[Face]:
    """With a dataset's own box (YOLO label), only the detected face on it; else every face."""
    if not label_box:
        return faces
    box = tuple(int(v) for v in label_box.split(","))
    best = max(faces, key=lambda f: iou(f.box, box), default=None)
    return [best] if best is not None and iou(best.box, box) >= MIN_LABEL_OVERLAP else []


def _write_crop(path: Path, image: np.ndarray) -> None:
    ok, encoded = cv2.imencode(path.suffix, image)
    if not ok:
        raise InputError(f"could not encode crop {path}")
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(encoded.tobytes())
    tmp.replace(path)


def _row(
    rel: str,
    frame: Frame,
    face: Face,
    crop_box: tuple[int, int, int, int],
    options: GatherOptions,
    meta: dict[str, str],
    boxes: str,
) -> dict[str, str]:
    height, width = frame.image.shape[:2]
    row = {
        "path": rel,
        "label": meta.get("label", ""),
        "subject": meta.get("subject", ""),
        "video_id": meta.get("video_id", ""),
        "source": meta.get("source", frame.source),
        "frame": str(frame.index),
        "x": str(face.x),
        "y": str(face.y),
        "w": str(face.w),
        "h": str(face.h),
        "crop_x": str(crop_box[0]),
        "crop_y": str(crop_box[1]),
        "crop_w": str(crop_box[2]),
        "crop_h": str(crop_box[3]),
        "frame_w": str(width),
        "frame_h": str(height),
        "confidence": f"{face.confidence:.4f}",
        "margin": f"{options.margin:g}",
        "detector": boxes,  # whose boxes: the trained model's card says which detector to meet
    }
    row.update({k: meta[k] for k in CARRIED_COLUMNS if k in meta})
    return row


def _crop_name(meta: dict[str, str], frame: Frame, k: int, ext: str) -> str:
    """A name unique per source frame and face, readable by a person."""
    suffix = f"_f{k}" if k else ""
    if meta.get("_per_image"):
        image = Path(frame.source).with_suffix("")
        stem = f"{meta['video_id']}_{image.name}" if meta.get("video_id") else image.as_posix()
        return f"{_slug(stem)}{suffix}.{ext}"
    stem = _slug(meta.get("video_id") or meta.get("source") or frame.source)
    return f"{stem}_{frame.index:06d}{suffix}.{ext}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[-120:] or "frame"


def _jobs(
    source: str, output: Path, options: GatherOptions, on_skip: Callable[[Path], None]
) -> Iterator[Job]:
    """Split the input into jobs: one per video, one for a folder or list of images."""
    base = _base_meta(output, options)
    if source.isdigit():
        yield _camera_job(int(source), options, base)
        return
    path = Path(source)
    if not path.exists():
        raise InputError(f"input not found: {source}")
    if path.is_dir() and is_yolo_dataset(path):
        yield from _yolo_jobs(path, options, base, on_skip)
    elif path.is_dir():
        images = list_images(path, required=True)[:: options.skip]
        meta = {**base, "source": str(path), "_per_image": "1"}
        yield Job(iter_images(images, root=path, on_skip=on_skip), len(images), meta)
    elif path.suffix.lower() == ".csv":
        yield from _index_jobs(path, options, base, on_skip)
    elif path.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp", ".webp"}:
        meta = {**base, "source": str(path.parent), "_per_image": "1"}
        yield Job(iter_images([path], root=path.parent, on_skip=on_skip), 1, meta)
    else:
        meta = {**base, "source": str(path), "video_id": options.video_id or _video_id(path)}
        total = -(-video_frame_count(path) // options.skip) or None
        yield Job(_limited(iter_video(path, options.skip), options.max_frames), total, meta)


def _base_meta(output: Path, options: GatherOptions) -> dict[str, str]:
    meta: dict[str, str] = {}
    label = options.label or (output.name.lower() if output.name.lower() in CLASS_FOLDER_NAMES else None)
    if label:
        meta["label"] = canonical(label) or label  # the project's word for a known spelling
    if options.subject:
        meta["subject"] = options.subject
    return meta


def _video_id(path: Path) -> str:
    """A readable id that tells apart `a/real.mp4` and `b/real.mp4`."""
    parts = path.resolve().with_suffix("").parts
    return "/".join(parts[-2:])


def _camera_job(index: int, options: GatherOptions, base: dict[str, str]) -> Job:
    from liveness.io.media import CameraReader

    reader = CameraReader(index)

    def frames() -> Iterator[Frame]:
        try:
            for n, frame in enumerate(reader.frames()):
                if options.max_frames and n >= options.max_frames * options.skip:
                    return
                if n % options.skip == 0:
                    yield frame
        finally:
            reader.close()

    meta = {**base, "source": reader.source, "video_id": options.video_id or f"camera{index}"}
    return Job(frames(), options.max_frames, meta)


def _limited(frames: Iterator[Frame], limit: int | None) -> Iterator[Frame]:
    for n, frame in enumerate(frames):
        if limit is not None and n >= limit:
            return
        yield frame


def _yolo_jobs(
    folder: Path, options: GatherOptions, base: dict[str, str], on_skip: Callable[[Path], None]
) -> Iterator[Job]:
    """A YOLO-format dataset: each distinct frame with exactly one labelled box, its class read
    through the folder's data.yaml; the crop is the detected face on that box, written to
    `OUTPUT/<label>/` with the folder as the group (subject)."""
    frames = single_box_frames(folder)[:: options.skip]
    for image, box in tqdm(frames, desc=folder.name[:40], unit="image"):
        meta = {**base, "label": image.label, "_label_folder": "1", "_per_image": "1"}
        meta.setdefault("subject", folder.name)
        meta.update(source=image.path.as_posix(), _label_box=",".join(map(str, box)))
        meta["video_id"] = image.path.parent.relative_to(folder).as_posix()
        yield Job(iter_images([image.path], root=folder, on_skip=on_skip), 1, meta)


def _index_jobs(
    index: Path, options: GatherOptions, base: dict[str, str], on_skip: Callable[[Path], None]
) -> Iterator[Job]:
    """A dataset index (CSV with `path` and optionally label, subject, video_id, ...).

    Images of one row each; crops go to `OUTPUT/<label>/` so that the output is
    also a class-folder dataset.
    """
    rows = read_rows(index)
    if not rows or "path" not in rows[0]:
        raise DatasetError(f"{index}: expected a CSV with a 'path' column")
    if options.split:
        if "split" not in rows[0]:
            raise DatasetError(f"{index}: --split given but the CSV has no 'split' column")
        rows = [r for r in rows if r.get("split") == options.split]
        if not rows:
            raise DatasetError(f"{index}: no rows with split == {options.split!r}")
    root = index.parent
    for row in tqdm(rows, desc=index.name, unit="image"):
        meta = {**base, **{k: v for k, v in row.items() if k != "path" and v}}
        meta.setdefault("video_id", Path(row["path"]).parent.as_posix())
        meta["source"] = (root / row["path"]).as_posix()
        meta["_per_image"] = "1"
        if meta.get("label"):
            meta["label"] = meta["label"].lower()
            meta["_label_folder"] = "1"
        frames = iter_images([root / row["path"]], root=root, on_skip=on_skip)
        yield Job(frames, 1, meta)
