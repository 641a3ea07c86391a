"""Teacher views: augmented copies of each training face, each with the teachers' score of it.

Distilling from a score cached once per face teaches the student the teacher's
answer on the clean face only, while training shows it jittered, blurred and
recompressed faces with that same answer. Here every view is made on the whole
frame first (box jitter, flip, colour, blur, resolution loss, noise, JPEG), and
the teachers judge the very view the student is trained on, each with its own
crop of the augmented frame, so the student learns the teachers' function, not
only their labels (consistent distillation). View 0 of every face is the face
unchanged.

A bank is one `.npz` file (no pickled objects): `paths` (the manifest paths),
`images` (faces x views x size x size x 3, RGB uint8, cropped as the engine
crops), one score array per teacher (faces x views) and `teacher`, their mean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from liveness.errors import DatasetError

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Views:
    """A loaded bank: `images[i, k]` is view k of face `paths[i]`, `teacher[i, k]` its score."""

    paths: list[str]
    images: np.ndarray
    teacher: np.ndarray
    crop_scale: float
    input_size: int

    def rows_for(self, paths: list[str]) -> np.ndarray:
        """The bank row of each path; a clear error naming the first one the bank lacks."""
        where = {str(Path(p).resolve()): i for i, p in enumerate(self.paths)}
        keys = [str(Path(p).resolve()) for p in paths]
        missing = [p for p in keys if p not in where]
        if missing:
            raise DatasetError(f"the teacher views have no face {missing[0]} ({len(missing)} missing)")
        return np.array([where[p] for p in keys], dtype=np.int64)


def random_view(frame: np.ndarray, box: Box, rng: np.random.Generator) -> tuple[np.ndarray, Box]:
    """An augmented copy of a BGR frame and its face box: what another camera, light or
    distance might have shown. Geometry moves the box, photometry the pixels."""
    frame, box = _jitter_geometry(frame, box, rng)
    frame = _jitter_colour(frame, rng)
    if rng.random() < 0.3:
        frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.4, 1.6))
    if rng.random() < 0.3:
        frame = _lose_resolution(frame, rng.uniform(0.35, 0.8))
    if rng.random() < 0.3:
        frame = _add_noise(frame, rng.uniform(2.0, 8.0), rng)
    if rng.random() < 0.5:
        frame = _recompress(frame, int(rng.integers(30, 96)))
    return frame, box


def _jitter_geometry(frame: np.ndarray, box: Box, rng: np.random.Generator) -> tuple[np.ndarray, Box]:
    """Mirror half the frames; rescale the box 0.85-1.2x and shift it by up to 8 % of its side."""
    height, width = frame.shape[:2]
    x, y, w, h = box
    if rng.random() < 0.5:
        frame, x = np.ascontiguousarray(frame[:, ::-1]), width - x - w
    scale = float(np.exp(rng.uniform(np.log(0.85), np.log(1.2))))
    cx = x + w / 2 + rng.uniform(-0.08, 0.08) * w
    cy = y + h / 2 + rng.uniform(-0.08, 0.08) * h
    new_w, new_h = max(8, round(w * scale)), max(8, round(h * scale))
    left = int(np.clip(round(cx - new_w / 2), 0, max(0, width - new_w)))
    top = int(np.clip(round(cy - new_h / 2), 0, max(0, height - new_h)))
    return frame, (left, top, min(new_w, width - left), min(new_h, height - top))


def _jitter_colour(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """White balance, contrast, brightness and gamma as one lookup table per channel, then
    saturation; each drawn independently (lookup tables keep a 640x480 view near a millisecond)."""
    if rng.random() < 0.2:
        return frame
    levels = np.arange(256, dtype=np.float32)[:, None] / 255.0
    curve = levels * rng.uniform(0.9, 1.1, 3)  # white balance, per BGR channel
    curve = (curve - 0.5) * rng.uniform(0.7, 1.3) + 0.5 + rng.uniform(-0.12, 0.12)
    curve = np.clip(curve, 0.0, 1.0) ** rng.uniform(0.7, 1.4)
    table = np.clip(curve * 255.0 + 0.5, 0, 255).astype(np.uint8)
    out = np.dstack([cv2.LUT(frame[..., c], table[:, c]) for c in range(3)])
    grey = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    saturation = rng.uniform(0.6, 1.3)
    return cv2.addWeighted(out, saturation, grey, 1.0 - saturation, 0.0)


def _lose_resolution(frame: np.ndarray, factor: float) -> np.ndarray:
    """Shrink then enlarge back, as a cheaper or farther camera would have resolved the face."""
    height, width = frame.shape[:2]
    small = cv2.resize(frame, (max(1, int(width * factor)), max(1, int(height * factor))), cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _add_noise(frame: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise: Gaussian, drawn at a quarter of the resolution and enlarged (cheaper, and
    grainier, as a small sensor's noise looks after demosaicing)."""
    height, width = frame.shape[:2]
    small = rng.normal(0.0, sigma, ((height + 1) // 2, (width + 1) // 2, 3)).astype(np.float32)
    noise = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)
    return np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def _recompress(frame: np.ndarray, quality: int) -> np.ndarray:
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else frame


def save_views(path: Path, views: Views, scores: dict[str, np.ndarray], config: dict) -> None:
    """Write a bank; `scores` holds each teacher's faces x views array, `teacher` their mean."""
    meta = {"crop_scale": views.crop_scale, "input_size": views.input_size, **config}
    tmp = Path(path).with_name(Path(path).name + ".part.npz")
    np.savez(
        tmp,
        paths=np.array(views.paths, dtype=np.str_),
        images=views.images,
        teacher=views.teacher.astype(np.float32),
        meta=np.array(json.dumps(meta)),
        **{f"score_{name}": s.astype(np.float32) for name, s in scores.items()},
    )
    tmp.replace(path)


def load_views(path: str | Path) -> Views:
    """Read a bank written by `save_views` (never unpickles: object arrays are refused)."""
    try:
        with np.load(path, allow_pickle=False) as bank:
            meta = json.loads(str(bank["meta"]))
            images, teacher = bank["images"], bank["teacher"]
            paths = [str(p) for p in bank["paths"]]
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"{path} is not a teacher-views bank: {exc}") from None
    if images.ndim != 5 or images.shape[:2] != teacher.shape or len(paths) != len(images):
        raise DatasetError(f"{path}: images {images.shape}, teacher {teacher.shape} do not match")
    return Views(paths, images, teacher, float(meta["crop_scale"]), int(meta["input_size"]))
