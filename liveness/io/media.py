"""Frames from a video file, a folder of images, a list of images or a camera.

Every reader yields `Frame`s and turns unreadable input into `InputError`
(or, for one bad image among many, a logged warning and a skip).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from liveness.errors import InputError
from liveness.preprocess import ensure_bgr

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
MAX_IMAGE_PIXELS = 80_000_000


@dataclass
class Frame:
    """One image to process, with where it came from."""

    source: str
    index: int
    image: np.ndarray


def read_image(path: str | Path) -> np.ndarray:
    """A BGR image from disk; `InputError` for missing, empty or undecodable files."""
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise InputError(f"image not found: {path}") from None
    except (IsADirectoryError, PermissionError, OSError) as exc:
        raise InputError(f"cannot read image {path}: {exc.strerror or exc}") from None
    return decode_image(data.tobytes(), str(path))


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Decode image bytes (JPEG, PNG, ...) to 8-bit BGR; refuses non-images and absurd sizes.

    The size is read from the header before anything is decoded (OpenCV's
    reduced decode, used for this before, throws on valid images under 8 px).
    16-bit and float images are scaled to 8 bits; NaN and infinities become 0.
    """
    if not data:
        raise InputError(f"{name} is empty")
    size, orientation = _header(data)
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise InputError(f"{name} is too large to decode ({size[0]}x{size[1]})")
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise InputError(f"{name} is not an image OpenCV can decode")
    if image.dtype != np.uint8:
        image = _to_8bit(image)
    try:
        return upright(ensure_bgr(image), orientation)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None


def _to_8bit(image: np.ndarray) -> np.ndarray:
    """16-bit, 32-bit and float images scaled to 0-255 by their brightest value, alpha dropped first.

    Memory matters here: a 4096 px 16-bit RGBA upload is 134 MB decoded, and a
    float64 copy of it was 537 MB more. Alpha goes first (a third less to
    convert), integers are scaled in one OpenCV pass without a float copy, and
    floats are cleaned of NaN and infinities in place, in float32.
    """
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype.kind == "f":
        image = image.astype(np.float32, copy=False)
        np.nan_to_num(image, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    elif image.dtype.itemsize > 2:  # 32-bit integers: OpenCV scales floats, not these
        image = image.astype(np.float32)
    brightest = float(image.max()) if image.size else 0.0
    return cv2.convertScaleAbs(image, alpha=255.0 / max(1.0, brightest))


def _header(data: bytes) -> tuple[tuple[int, int] | None, int]:
    """(width, height) and the EXIF orientation (1: as stored) from the header; (None, 1)
    when Pillow cannot read it."""
    import io
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # a corrupt EXIF block is the decoder's to judge, not a warning
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as img:
                return img.size, int(img.getexif().get(0x0112, 1) or 1)
    except (UnidentifiedImageError, OSError, ValueError, TypeError, Image.DecompressionBombError):
        return None, 1


# EXIF orientation -> (transpose first, then rotate clockwise by this many quarter turns)
_ORIENTATIONS = {2: (False, 0, True), 3: (False, 2, False), 4: (False, 2, True), 5: (True, 0, False),
                 6: (False, 1, False), 7: (True, 2, False), 8: (False, 3, False)}  # fmt: skip


def upright(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an image as its EXIF orientation says a viewer shows it (phones store portrait
    photos sideways with orientation 6 or 8); OpenCV's unchanged decode ignores the tag."""
    if orientation not in _ORIENTATIONS:
        return image
    transpose, quarter_turns, mirror = _ORIENTATIONS[orientation]
    if transpose:
        image = cv2.transpose(image)
    if quarter_turns:
        image = np.rot90(image, -quarter_turns)
    if mirror:
        image = image[:, ::-1]
    return np.ascontiguousarray(image)


def image_size(path: str | Path) -> tuple[int, int] | None:
    """(width, height) from an image file's header without decoding it; None if unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def list_images(folder: Path, required: bool = False) -> list[Path]:
    """Image files below `folder`, sorted, so runs are reproducible; `required`: refuse none."""
    found = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if required and not found:
        raise InputError(f"no images found in folder {folder}")
    return found


def iter_images(
    paths: list[Path], root: Path | None = None, on_skip: Callable[[Path], None] | None = None
) -> Iterator[Frame]:
    """Frames from image files; an unreadable file is logged and skipped (and `on_skip` told)."""
    for i, path in enumerate(paths):
        try:
            image = read_image(path)
        except InputError as exc:
            log.warning("skipping %s", exc)
            if on_skip is not None:
                on_skip(path)
            continue
        yield Frame(_display_name(path, root), i, image)


def _display_name(path: Path, root: Path | None) -> str:
    """`path` relative to `root` where it lies below it, else as given."""
    if root is not None and path.is_relative_to(root):
        return str(path.relative_to(root))
    return str(path)


def video_rate(path: str | Path, default: float = 30.0) -> float:
    """A video file's frames per second as its header states it, or `default` when that is
    missing or implausible (some containers say 0 or 1000)."""
    capture = open_video(path)
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return fps if 1.0 <= fps <= 240.0 else default


@contextmanager
def in_memory_file(data: bytes) -> Iterator[str]:
    """A path to `data` for readers that want a file name (OpenCV's video decoder): an anonymous
    in-memory file on Linux, so an upload never touches the disk; elsewhere a private temporary
    file, deleted on exit."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("upload")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            yield f"/proc/{os.getpid()}/fd/{fd}"
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        yield str(path)


def open_video(path: str | Path) -> cv2.VideoCapture:
    """Open a video file, honouring rotation metadata; refuses files that decode no frame."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"video not found: {path}")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        known = path.suffix.lower() in VIDEO_SUFFIXES
        raise InputError(f"{path} is not {'a video' if known else 'an image or a video'} OpenCV can open")
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return capture


def iter_video(path: str | Path, skip: int = 1) -> Iterator[Frame]:
    """Every `skip`-th frame of a video file, rotated upright."""
    capture = open_video(path)
    index = -1
    try:
        while True:
            ok = capture.grab()
            if not ok:
                break
            index += 1
            if index % skip:
                continue
            ok, image = capture.retrieve()
            if not ok or image is None:
                log.warning("%s: frame %d could not be decoded; skipped", path, index)
                continue
            yield Frame(str(path), index, image)
    finally:
        capture.release()
    if index < 0:
        raise InputError(f"{path} contains no decodable video frame")


def video_frame_count(path: str | Path) -> int:
    capture = open_video(path)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    return max(count, 0)


class CameraReader:
    """Reads a camera in its own thread and keeps only the newest frame.

    A slow consumer then never sees stale frames: frames that arrive while it
    is busy are dropped instead of queued, so a live view does not lag.
    """

    def __init__(self, source: int | str, width: int | None = None, height: int | None = None) -> None:
        self.capture = cv2.VideoCapture(source)
        if not self.capture.isOpened():
            raise InputError(f"camera {source} cannot be opened (is one connected, and free?)")
        if width and height:
            self.capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self.capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self.source = f"camera:{source}"
        self._frame: np.ndarray | None = None
        self._count = 0
        self._dropped = 0
        self._stopped = False
        self._fresh = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="camera-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped:
            ok, image = self.capture.read()
            with self._fresh:
                if not ok:
                    self._stopped = True
                elif self._frame is not None:
                    self._dropped += 1
                if ok:
                    self._frame = image
                    self._count += 1
                self._fresh.notify_all()

    def frames(self) -> Iterator[Frame]:
        """The newest frame each time the consumer asks, until the camera stops."""
        while True:
            with self._fresh:
                while self._frame is None and not self._stopped:
                    self._fresh.wait(timeout=1.0)
                if self._frame is None:
                    return
                image, self._frame = self._frame, None
                index = self._count - 1
            yield Frame(self.source, index, image)

    @property
    def dropped(self) -> int:
        return self._dropped

    def close(self) -> None:
        self._stopped = True
        self._thread.join(timeout=2.0)
        self.capture.release()


def iter_frames(source: str | Path, skip: int = 1) -> Iterator[Frame]:
    """Frames of a folder of images, one image file, or every `skip`-th frame of a video."""
    path = Path(source)
    if not path.exists():
        raise InputError(f"input not found: {source}")
    if path.is_dir():
        yield from iter_images(list_images(path, required=True)[::skip], root=path)
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        yield from iter_images([path], root=path.parent)
    else:
        yield from iter_video(path, skip)
