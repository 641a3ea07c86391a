"""Pure crop / context / resize functions shared by gathering, training and inference.

Every path from a camera frame to a model input goes through these functions,
so a crop made at training time is the crop made at inference time.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Box = tuple[int, int, int, int]


def expand_box(box: Box, scale: float, frame_w: int, frame_h: int, square: bool = True) -> Box:
    """Grow `box` about its centre by `scale` and keep it inside the frame.

    With `square` the result is a square of side `max(w, h) * scale`, so the
    face is never stretched when resized to a square model input. If the
    grown box is larger than the frame it shrinks to fit; otherwise it is
    shifted back inside rather than clipped, so the face stays whole.
    """
    x, y, w, h = box
    cx, cy = x + w / 2.0, y + h / 2.0
    if square:
        new_w = new_h = max(w, h) * scale
        new_w = new_h = min(new_w, frame_w, frame_h)
    else:
        new_w, new_h = min(w * scale, frame_w), min(h * scale, frame_h)
    left = min(max(cx - new_w / 2.0, 0.0), frame_w - new_w)
    top = min(max(cy - new_h / 2.0, 0.0), frame_h - new_h)
    ix, iy = round(left), round(top)
    iw = max(1, min(round(new_w), frame_w - ix))
    ih = max(1, min(round(new_h), frame_h - iy))
    return ix, iy, iw, ih


def clip_box(x0: float, y0: float, x1: float, y1: float, frame_w: int, frame_h: int) -> Box | None:
    """Corner coordinates clipped to the frame as `(x, y, w, h)`, or None if nothing is left."""
    left, top = max(0, round(x0)), max(0, round(y0))
    right, bottom = min(frame_w, round(x1)), min(frame_h, round(y1))
    if right - left < 1 or bottom - top < 1:
        return None
    return left, top, right - left, bottom - top


def iou(a: Box, b: Box | None) -> float:
    """Intersection over union of two `(x, y, w, h)` boxes."""
    if b is None:
        return 0.0
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def crop(frame: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    return frame[y : y + h, x : x + w]


def face_crop(frame: np.ndarray, box: Box, scale: float) -> np.ndarray:
    """The square context crop the models see, taken from a BGR frame."""
    frame_h, frame_w = frame.shape[:2]
    return crop(frame, expand_box(box, scale, frame_w, frame_h))


def model_face(frame: np.ndarray, box: Box | None, crop_scale: float, size: int) -> np.ndarray:
    """The RGB uint8 face a model of this size and context sees (the whole image without a box)."""
    image = frame if box is None else face_crop(frame, box, crop_scale)
    return to_model_input([image], size)[0].astype(np.uint8)


def reflect_square(frame: np.ndarray, box: Box, scale: float) -> np.ndarray:
    """A square of side `scale` x the box's longer side, centred on it, never shrunk or shifted:
    what falls outside the frame is mirrored (reflect-101), as the CelebA-Spoof MiniFASNet was trained."""
    x, y, w, h = box
    longer = max(w, h)
    side = max(1, int(scale * longer))
    left, top = int(x + w / 2 - scale / 2 * longer), int(y + h / 2 - scale / 2 * longer)
    height, width = frame.shape[:2]
    pad = (max(0, -top), max(0, top + side - height), max(0, -left), max(0, left + side - width))
    inside = frame[max(0, top) : top + side, max(0, left) : left + side]
    return cv2.copyMakeBorder(inside, *pad, cv2.BORDER_REFLECT_101)


def silent_face_box(box: Box, scale: float, frame_w: int, frame_h: int) -> Box:
    """The context box of Silent-Face / MiniFASNet: `scale` x the face box, centred.

    The scale shrinks until the box fits the frame; then the box is shifted
    back inside. Width and height keep the face box's aspect ratio.
    """
    x, y, w, h = box
    scale = min((frame_h - 1) / h, (frame_w - 1) / w, scale)
    new_w, new_h = w * scale, h * scale
    cx, cy = x + w / 2.0, y + h / 2.0
    left = min(max(cx - new_w / 2.0, 0.0), frame_w - 1 - new_w)
    top = min(max(cy - new_h / 2.0, 0.0), frame_h - 1 - new_h)
    return int(left), int(top), max(1, int(new_w)), max(1, int(new_h))


def context_crop(frame: np.ndarray, box: Box, scale: float, rule: str = "square") -> np.ndarray:
    """The context crop of one face by a model card's crop rule (`liveness.cards.CROP_RULES`)."""
    if rule == "square":
        return face_crop(frame, box, scale)
    if rule == "square-reflect":
        return reflect_square(frame, box, scale)
    if rule == "silentface":
        frame_h, frame_w = frame.shape[:2]
        x, y, w, h = silent_face_box(box, scale, frame_w, frame_h)
        return frame[y : y + h + 1, x : x + w + 1]
    raise ValueError(f"unknown crop rule {rule!r}")


ENLARGE = {"area": cv2.INTER_LINEAR, "linear": cv2.INTER_LINEAR, "lanczos": cv2.INTER_LANCZOS4}


def to_model_input(
    crops: Sequence[np.ndarray], size: int, color_order: str = "RGB", resize: str = "area"
) -> np.ndarray:
    """Resize BGR crops to `size` x `size` and stack them as float32 NHWC in 0-255.

    `resize` (a card's): "area" shrinks by pixel area and enlarges bilinearly,
    "linear" is bilinear both ways, "lanczos" shrinks by area and enlarges with Lanczos-4.
    """
    batch = np.empty((len(crops), size, size, 3), dtype=np.float32)
    for i, image in enumerate(crops):
        shrinking = min(image.shape[:2]) > size
        interp = cv2.INTER_AREA if shrinking and resize != "linear" else ENLARGE[resize]
        resized = cv2.resize(image, (size, size), interpolation=interp)
        if color_order == "RGB":
            resized = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
        batch[i] = resized
    return batch


def ensure_bgr(image: np.ndarray) -> np.ndarray:
    """Grey and BGRA images become 3-channel BGR uint8; anything else is refused."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise ValueError(f"expected a grey, BGR or BGRA image, got shape {image.shape}")
