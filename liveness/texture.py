"""Colour-texture liveness: LBP histograms of HSV and YCbCr and the luma's spectrum, read out linearly.

Why a fixed descriptor: on the source-held-out yardstick the project's networks
follow their training cameras and not a new one, while this descriptor with a
strongly regularised linear read-out holds better on every left-out source
(docs/across_sources.md, "Colour texture read out linearly"). A replay's
narrower gamut and a print's texture show in the chroma channels; a screen's
moiré and a print's blur in the spectrum.

It needs neither TensorFlow nor a GPU: `liveness train --arch colour-texture`
fits it with scikit-learn in seconds, and the engine scores it with NumPy and
OpenCV. The model is a plain `.npz` of arrays, loaded with `allow_pickle=False`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from liveness.cards import model_stem
from liveness.errors import ModelLoadError

ARCHITECTURE = "colour-texture"
SUFFIX = ".npz"
GRID = 2  # the radius-1 histograms also per quarter of the crop: where a texture sits counts
INPUT_SIZE = 128  # a recapture's texture is finer than a 64 px face shows (the yardstick: worst +0.04)
LOGISTIC_C = 0.01  # inverse L2 strength: a flexible read-out fits the training cameras
RIDGE_ALPHA = 100.0
SPECTRUM_BINS = 24
_NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))
_BINS = 59  # the 58 uniform 8-bit patterns, and one bin for every other pattern


def _uniform_lut() -> np.ndarray:
    """Pattern -> bin: a pattern with at most two 0/1 transitions around the circle is uniform."""
    lut = np.full(256, _BINS - 1, dtype=np.intp)
    uniform = [c for c in range(256) if bin(c ^ ((c >> 1) | ((c & 1) << 7))).count("1") <= 2]
    lut[uniform] = np.arange(len(uniform))
    return lut


_LUT = _uniform_lut()
_FOLD = np.zeros((256, _BINS), dtype=np.float32)  # counts of the 256 patterns -> counts of the bins
_FOLD[np.arange(256), _LUT] = 1.0


def _lbp_codes(image: np.ndarray, radius: int) -> np.ndarray:
    """The 8-bit LBP(8, radius) pattern of every inner pixel of every channel of an (H, W, C)
    uint8 image, shape (H-2r, W-2r, C). Rows are compared as flat runs of W*C values (a
    neighbour r pixels to the right is r*C values on), so OpenCV does every comparison."""
    h, w, c = image.shape
    flat = image.reshape(h, w * c)
    inner_h, inner_w = h - 2 * radius, (w - 2 * radius) * c
    centre = flat[radius : radius + inner_h, radius * c : radius * c + inner_w]
    code = np.zeros((inner_h, inner_w), dtype=np.uint8)
    for bit, (dy, dx) in enumerate(_NEIGHBOURS):
        y, x = radius + dy * radius, (radius + dx * radius) * c
        code |= cv2.compare(flat[y : y + inner_h, x : x + inner_w], centre, cv2.CMP_GE) & (1 << bit)
    return code.reshape(inner_h, w - 2 * radius, c)


@lru_cache(maxsize=16)
def _cell_labels(h: int, w: int, c: int, grid: int) -> np.ndarray:
    """For (H, W, C) codes laid out as H rows of W*C values: channel * (cells + 1) + cell of every
    value, the last cell standing for the rows and columns a grid leaves over (cached per shape)."""
    cells = grid * grid if grid > 1 else 0
    if c * (cells + 1) > 256:
        raise ValueError(f"a grid of {grid} leaves too many cells to label in 8 bits (at most 6)")
    cell = np.full((h, w), cells, dtype=np.uint8)
    side_y, side_x = h // max(grid, 1), w // max(grid, 1)
    for k in range(cells):
        i, j = divmod(k, grid)
        cell[i * side_y : (i + 1) * side_y, j * side_x : (j + 1) * side_x] = k
    labels = np.arange(c, dtype=np.uint8)[None, None, :] * (cells + 1) + cell[:, :, None]
    return labels.reshape(h, w * c)


def _histograms(codes: np.ndarray, grid: int = 1) -> list[np.ndarray]:
    """Normalised 59-bin uniform-pattern histograms of (H, W, C) codes: the whole map's, then each
    grid cell's (row by row), every one concatenated over the C channels. One OpenCV call counts
    pattern x (channel, cell) at once; the whole map is the sum of its cells and the leftover."""
    h, w, c = codes.shape
    cells = grid * grid if grid > 1 else 0
    n = c * (cells + 1)
    labels = _cell_labels(h, w, c, grid)
    counts = cv2.calcHist([codes.reshape(h, w * c), labels], [0, 1], None, [256, n], [0, 256, 0, n])
    bins = (_FOLD.T @ counts).T.reshape(c, cells + 1, _BINS)  # (channel, cell, bin)
    whole = bins.sum(axis=1).ravel() / (h * w or 1)
    if not cells:
        return [whole]
    side = (h // grid) * (w // grid) or 1
    return [whole, *(bins[:, k].ravel() / side for k in range(cells))]


@lru_cache(maxsize=8)
def _rings(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The window, each frequency's ring and each ring's size for an h x w spectrum (cached per shape)."""
    window = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    yy, xx = np.mgrid[:h, :w]
    radius = np.hypot(yy - h / 2, xx - w / 2) / (min(h, w) / 2)
    ring = np.minimum((radius * SPECTRUM_BINS).astype(np.intp), SPECTRUM_BINS)
    ring = np.fft.ifftshift(ring).ravel()  # in the DFT's own order: the spectrum is never shifted
    return window, ring, np.maximum(np.bincount(ring, minlength=SPECTRUM_BINS + 1), 1)


def _spectrum(gray: np.ndarray) -> np.ndarray:
    """Log power of the luma's 2-D spectrum, averaged over rings from low to high frequency."""
    window, ring, counts = _rings(*gray.shape)
    g = gray.astype(np.float32)
    g = (g - g.mean()) * window
    parts = cv2.dft(g, flags=cv2.DFT_COMPLEX_OUTPUT)
    power = np.log1p(cv2.magnitude(parts[:, :, 0], parts[:, :, 1]))
    sums = np.bincount(ring, weights=power.ravel(), minlength=SPECTRUM_BINS + 1)
    return (sums / counts)[:SPECTRUM_BINS].astype(np.float32)


def describe(rgb: np.ndarray, grid: int = GRID) -> np.ndarray:
    """The descriptor of one RGB uint8 crop: uniform LBP(8,1) and LBP(8,2) histograms of the six
    HSV and YCbCr channels, the LBP(8,1) histograms of each grid cell, the luma's ring spectrum."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    channels = cv2.merge(
        [cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV), ycc]
    )  # 6 channels; np.concatenate is 5x slower
    whole_near, *cells = _histograms(_lbp_codes(channels, 1), grid)
    parts = [whole_near, *_histograms(_lbp_codes(channels, 2)), *cells]
    parts.append(_spectrum(ycc[:, :, 0]))
    return np.concatenate(parts).astype(np.float32)


def describe_batch(batch: np.ndarray, grid: int = GRID, progress: bool = False) -> np.ndarray:
    """Descriptors of an NHWC batch of RGB crops in 0-255 (the engine's model input); `progress`
    shows a bar (training describes thousands of crops, the engine a frame's few)."""
    crops = tqdm(batch, desc="describing", unit="crop", leave=False) if progress else batch
    return np.stack([describe(np.clip(crop, 0, 255).astype(np.uint8), grid) for crop in crops])


@dataclass(frozen=True)
class TextureModel:
    """Standardise the descriptor, then one or two linear read-outs: a logistic regression on the
    labels and, when a teacher trained it, a ridge regression on the teacher's real-probability;
    the score is their mean (the blend), which held best on the yardstick."""

    mean: np.ndarray
    scale: np.ndarray
    labels_coef: np.ndarray
    labels_bias: float
    teacher_coef: np.ndarray | None
    teacher_bias: float
    real_index: int
    grid: int = GRID
    root: bool = False  # read out the square roots of the histograms (`hellinger`); files before it did not

    def real_probability(self, features: np.ndarray) -> np.ndarray:
        """The blend of both read-outs (the labels' alone without a teacher), per descriptor."""
        z = self._standardised(features)
        labels = self._labels(z)
        return labels if self.teacher_coef is None else (labels + self._teacher(z)) / 2

    def labels_probability(self, features: np.ndarray) -> np.ndarray:
        return self._labels(self._standardised(features))

    def teacher_score(self, features: np.ndarray) -> np.ndarray:
        """The ridge read-out's estimate of the teacher's real-probability, clipped to [0, 1]."""
        if self.teacher_coef is None:
            raise ValueError("this model was fitted without a teacher")
        return self._teacher(self._standardised(features))

    def _standardised(self, features: np.ndarray) -> np.ndarray:
        return ((hellinger(features) if self.root else features) - self.mean) / self.scale

    def _labels(self, z: np.ndarray) -> np.ndarray:
        return (1.0 / (1.0 + np.exp(-(z @ self.labels_coef + self.labels_bias)))).astype(np.float32)

    def _teacher(self, z: np.ndarray) -> np.ndarray:
        return np.clip(z @ self.teacher_coef + self.teacher_bias, 0.0, 1.0).astype(np.float32)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """(N, 2) class probabilities for an NHWC RGB 0-255 batch, in the card's class order."""
        real = self.real_probability(describe_batch(batch, self.grid))
        out = np.empty((len(real), 2), dtype=np.float32)
        out[:, self.real_index], out[:, 1 - self.real_index] = real, 1.0 - real
        return out

    def save(self, path: Path) -> None:
        arrays = {
            "mean": self.mean,
            "scale": self.scale,
            "labels_coef": self.labels_coef,
            "labels_bias": np.float64(self.labels_bias),
            "teacher_bias": np.float64(self.teacher_bias),
            "real_index": np.int64(self.real_index),
            "grid": np.int64(self.grid),
            "root": np.bool_(self.root),
        }
        if self.teacher_coef is not None:
            arrays["teacher_coef"] = self.teacher_coef
        with open(path, "wb") as fh:  # a file object: np.savez would append .npz to a path
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: Path) -> TextureModel:
        """Read a model file; a file that is not one is refused with the reason, never unpickled."""
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{path} is not a colour-texture model: {exc}") from None
        missing = {"mean", "scale", "labels_coef", "labels_bias", "real_index", "grid"} - set(arrays)
        if missing:
            raise ModelLoadError(f"{path} is not a colour-texture model: it lacks {sorted(missing)}")
        model = cls(
            mean=arrays["mean"].astype(np.float32),
            scale=arrays["scale"].astype(np.float32),
            labels_coef=arrays["labels_coef"].astype(np.float32),
            labels_bias=float(arrays["labels_bias"]),
            teacher_coef=arrays["teacher_coef"].astype(np.float32) if "teacher_coef" in arrays else None,
            teacher_bias=float(arrays.get("teacher_bias", 0.0)),
            real_index=int(arrays["real_index"]),
            grid=int(arrays["grid"]),
            root=bool(arrays.get("root", False)),
        )
        n = descriptor_length(model.grid)
        shapes = [model.mean.shape, model.scale.shape, model.labels_coef.shape]
        if model.teacher_coef is not None:
            shapes.append(model.teacher_coef.shape)
        if any(shape != (n,) for shape in shapes) or model.real_index not in (0, 1):
            raise ModelLoadError(
                f"{path}: its arrays do not fit a grid-{model.grid} descriptor of {n} values"
            )
        return model


def hellinger(features: np.ndarray) -> np.ndarray:
    """The descriptors with each histogram bin replaced by its square root (the spectrum, already a
    log, kept). A linear read-out of raw bins weighs a change in a common pattern like the same
    change in a rare one; on square roots it compares histograms as the Hellinger kernel does, which
    held better on new cameras (docs/across_sources.md: quick mean +0.012, worst +0.025)."""
    out = np.array(features, dtype=np.float32)
    out[..., :-SPECTRUM_BINS] = np.sqrt(out[..., :-SPECTRUM_BINS])
    return out


def model_file(path: Path) -> Path:
    """Where a colour-texture model named `path` (any of its files, or a `.keras` name) is written."""
    stem = model_stem(Path(path))
    return stem.with_name(stem.name + SUFFIX)


def descriptor_length(grid: int = GRID) -> int:
    """Values in a descriptor: 6 channels x 59 bins at two radii, per grid cell at radius 1, the spectrum."""
    return 6 * _BINS * (2 + (grid * grid if grid > 1 else 0)) + SPECTRUM_BINS


def fit(
    features: np.ndarray,
    is_real: np.ndarray,
    teacher: np.ndarray | None,
    real_index: int,
    c: float = LOGISTIC_C,
    alpha: float = RIDGE_ALPHA,
    root: bool = True,
    weights: np.ndarray | None = None,
) -> TextureModel:
    """Fit the read-outs on descriptors of labelled crops (and a teacher's score of each, if given);
    `root`: on the square roots of their histograms (`hellinger`); `weights`: each crop's weight in
    both read-outs (say, to let every source count alike), equal when None."""
    from sklearn.linear_model import LogisticRegression, Ridge

    if root:
        features = hellinger(features)
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale < 1e-8] = 1.0  # a constant value (an empty bin) carries nothing
    z = (features - mean) / scale
    labels = LogisticRegression(C=c, max_iter=3000).fit(z, is_real.astype(int), sample_weight=weights)
    coef, bias = None, 0.0
    if teacher is not None:
        ridge = Ridge(alpha=alpha).fit(z, teacher, sample_weight=weights)
        coef, bias = ridge.coef_.astype(np.float32), float(ridge.intercept_)
    return TextureModel(
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        labels_coef=labels.coef_[0].astype(np.float32),
        labels_bias=float(labels.intercept_[0]),
        teacher_coef=coef,
        teacher_bias=bias,
        real_index=real_index,
        root=root,
    )
