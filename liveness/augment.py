"""Training-time image augmentation in TensorFlow ops (runs inside `tf.data`).

Two kinds. Photometric and geometric jitter (colour, gamma, blur, noise,
JPEG re-compression) makes the model indifferent to a particular camera.
Synthetic attacks turn real faces into simulated recaptures (print:
reduced gamut and halftone dots; screen: moiré, gamma, glare and a pixel
grid) and label them as attacks, so the network learns recapture artefacts
rather than the rooms and people of one dataset.
"""

from __future__ import annotations

import math

import tensorflow as tf


def _uniform(shape, low: float, high: float) -> tf.Tensor:
    return tf.random.uniform(shape, low, high)


def _grid(size: int) -> tuple[tf.Tensor, tf.Tensor]:
    coords = tf.range(size, dtype=tf.float32)
    return tf.meshgrid(coords, coords)  # xs, ys: (size, size)


def photometric(images: tf.Tensor, clean_share: float = 0.0) -> tf.Tensor:
    """Per-image colour, gamma, blur, noise and JPEG jitter on a 0-255 float batch.

    `clean_share` of the images pass through untouched, so batch-norm statistics
    also see images like the clean ones met at inference.
    """
    if clean_share > 0.0:
        keep = tf.random.uniform([tf.shape(images)[0], 1, 1, 1]) < clean_share
        return tf.where(keep, images, photometric(images))
    n = tf.shape(images)[0]
    x = images / 255.0
    gain = _uniform([n, 1, 1, 3], 0.85, 1.15)  # white balance
    x = tf.clip_by_value(x * gain * _uniform([n, 1, 1, 1], 0.7, 1.3), 0.0, 1.0)  # exposure
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    x = tf.clip_by_value(mean + (x - mean) * _uniform([n, 1, 1, 1], 0.7, 1.3), 0.0, 1.0)  # contrast
    grey = tf.reduce_mean(x, axis=3, keepdims=True)
    x = grey + (x - grey) * _uniform([n, 1, 1, 1], 0.6, 1.4)  # saturation
    x = tf.clip_by_value(x, 0.0, 1.0) ** _uniform([n, 1, 1, 1], 0.75, 1.35)  # gamma
    blur = tf.nn.avg_pool2d(x, 3, 1, "SAME")
    x = tf.where(_uniform([n, 1, 1, 1], 0, 1) < 0.25, blur, x)
    x = x + tf.random.normal(tf.shape(x)) * _uniform([n, 1, 1, 1], 0.0, 0.03)
    x = tf.clip_by_value(x, 0.0, 1.0)
    return jpeg(x * 255.0, probability=0.4)


def retarget(
    images: tf.Tensor,
    share: float,
    brightness: tuple[float, float] = (50.0, 200.0),
    contrast: tuple[float, float] = (35.0, 90.0),
    chroma: tuple[float, float] = (4.0, 40.0),
    detail: tuple[float, float] = (4.0, 16.0),
) -> tf.Tensor:
    """Give a share of the batch a face brightness, contrast, colourfulness and fine detail
    drawn regardless of label.

    Symmetric jitter widens each class's spread but keeps the gap between them.
    In Replay-Attack the replayed faces are brighter (grey mean 112 against 85)
    and more contrasted than the live ones, so a network learns "bright, crisp
    = attack" and calls a brightly lit live face (NUAA's: 117, and contrasted)
    an attack. Setting each chosen crop to a random brightness (by gain, so some
    live faces blow out as real ones do), grey spread and chroma leaves these
    statistics without information about the label. Fine detail (the grey
    levels' spread about their 3x3 mean, at the model's input size) flips the
    same way: Replay-Attack's screens carry more of it than its live faces
    (median 10.5 against 8.4), NUAA's live faces more than its prints (12.5
    against 7.8); the chosen crops get a drawn amount, blurred or sharpened.
    """
    n, size = tf.shape(images)[0], images.shape[1]
    lo, hi = size // 5, size - size // 5

    def middle_mean(x: tf.Tensor) -> tf.Tensor:
        return tf.reduce_mean(x[:, lo:hi, lo:hi, :], axis=[1, 2, 3], keepdims=True)

    level = middle_mean(images)
    x = tf.clip_by_value(images * _uniform([n, 1, 1, 1], *brightness) / tf.maximum(level, 1.0), 0.0, 255.0)
    grey = tf.reduce_mean(x, axis=3, keepdims=True)
    colour = x - grey
    level, spread = middle_mean(grey), tf.math.reduce_std(grey, axis=[1, 2, 3], keepdims=True)
    grey = level + (grey - level) * _uniform([n, 1, 1, 1], *contrast) / tf.maximum(spread, 1.0)
    colour = colour * _uniform([n, 1, 1, 1], *chroma) / tf.maximum(middle_mean(tf.abs(colour)), 1.0)
    x = tf.clip_by_value(tf.clip_by_value(grey, 0.0, 255.0) + colour, 0.0, 255.0)
    smooth = tf.nn.avg_pool2d(x, 3, 1, "SAME")
    fine = x - smooth
    amount = tf.math.reduce_std(tf.reduce_mean(fine[:, lo:hi, lo:hi, :], axis=3), axis=[1, 2])
    x = smooth + fine * _uniform([n, 1, 1, 1], *detail) / tf.maximum(amount[:, None, None, None], 0.5)
    chosen = _uniform([n, 1, 1, 1], 0, 1) < share
    return tf.where(chosen, tf.clip_by_value(x, 0.0, 255.0), images)


def jpeg(images: tf.Tensor, probability: float) -> tf.Tensor:
    """Re-compress a random share of the batch as JPEG at quality 30-90."""

    def one(image: tf.Tensor) -> tf.Tensor:
        quality = tf.random.uniform([], 30, 90, dtype=tf.int32)
        encoded = tf.image.adjust_jpeg_quality(tf.cast(image, tf.uint8), quality)
        keep = tf.random.uniform([]) >= probability
        return tf.where(keep, image, tf.cast(encoded, tf.float32))

    return tf.map_fn(one, images, fn_output_signature=tf.float32)


def _stripes(size: int, n: tf.Tensor, freq: tf.Tensor, phase: tf.Tensor) -> tf.Tensor:
    """cos(2 pi f (x cos a + y sin a) + phase) for a random angle per image: (n, size, size, 1)."""
    xs, ys = _grid(size)
    angle = _uniform([n, 1, 1], 0.0, math.pi)
    along = xs[None] * tf.cos(angle) + ys[None] * tf.sin(angle)
    return tf.cos(2.0 * math.pi * freq[:, None, None] * along + phase[:, None, None])[..., None]


def print_attack(images: tf.Tensor) -> tf.Tensor:
    """A printed photo: washed-out gamut, paper tint, halftone dots, and half the time a slight defocus."""
    n, size = tf.shape(images)[0], images.shape[1]
    x = images / 255.0
    mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
    x = mean + (x - mean) * _uniform([n, 1, 1, 1], 0.55, 0.9)
    x = x * (1.0 - _uniform([n, 1, 1, 1], 0.05, 0.2)) + _uniform([n, 1, 1, 3], 0.05, 0.2)  # paper
    freq = _uniform([n], 0.2, 0.45)
    dots = _stripes(size, n, freq, tf.zeros([n])) * _stripes(size, n, freq, _uniform([n], 0.0, 3.0))
    x = x * (1.0 - _uniform([n, 1, 1, 1], 0.03, 0.15) * (1.0 - dots) / 2.0)
    x = tf.where(_uniform([n, 1, 1, 1], 0, 1) < 0.5, tf.nn.avg_pool2d(x, 3, 1, "SAME"), x)
    return tf.clip_by_value(x, 0.0, 1.0) * 255.0


def screen_attack(images: tf.Tensor) -> tf.Tensor:
    """A phone or tablet replay: moiré, display gamma, glare and an RGB pixel grid."""
    n, size = tf.shape(images)[0], images.shape[1]
    x = tf.clip_by_value(images / 255.0, 0.0, 1.0) ** _uniform([n, 1, 1, 1], 0.7, 1.4)
    moire = _stripes(size, n, _uniform([n], 0.03, 0.2), _uniform([n], 0.0, 6.3))
    x = x + moire * _uniform([n, 1, 1, 3], 0.02, 0.08)
    xs, ys = _grid(size)
    cx, cy = _uniform([n, 1, 1], 0, size), _uniform([n, 1, 1], 0, size)
    spread = _uniform([n, 1, 1], 0.1, 0.4) * size
    glare = tf.exp(-((xs[None] - cx) ** 2 + (ys[None] - cy) ** 2) / (2.0 * spread**2))
    x = x + glare[..., None] * _uniform([n, 1, 1, 1], 0.0, 0.35)
    columns = tf.one_hot(tf.cast(xs, tf.int32) % 3, 3)  # (size, size, 3): R, G, B sub-pixels
    x = x * (1.0 - _uniform([n, 1, 1, 1], 0.0, 0.12) * (1.0 - columns[None]))
    return tf.clip_by_value(x, 0.0, 1.0) * 255.0


def _rotated_box(size: int, n: tf.Tensor) -> tf.Tensor:
    """Signed distance (in pixels, positive inside) to the nearest edge of a random tilted box
    per image, shape (n, size, size, 1).

    The box always holds the middle of the crop (where the detected face is) and
    reaches past the crop on each side about half the time, so some synthetic
    attacks show an edge, a corner or no edge at all.
    """
    xs, ys = _grid(size)
    centre = size / 2.0
    angle = _uniform([n, 1, 1], -0.17, 0.17)  # about +-10 degrees
    u = (xs[None] - centre) * tf.cos(angle) + (ys[None] - centre) * tf.sin(angle)
    v = -(xs[None] - centre) * tf.sin(angle) + (ys[None] - centre) * tf.cos(angle)
    left, top = _uniform([n, 1, 1], -0.65, -0.3) * size, _uniform([n, 1, 1], -0.65, -0.3) * size
    right, bottom = _uniform([n, 1, 1], 0.3, 0.65) * size, _uniform([n, 1, 1], 0.3, 0.65) * size
    inside = tf.minimum(tf.minimum(u - left, right - u), tf.minimum(v - top, bottom - v))
    return inside[..., None]


def framed(fake: tf.Tensor, images: tf.Tensor) -> tf.Tensor:
    """Put each simulated recapture inside a tilted photo or screen held up in another scene.

    Hand-held attacks show what a recapture is: a flat rectangle with a paper
    margin or a dark bezel, and a different scene around it. The scene comes from
    another image of the batch, mirrored and softened, so its room is not a cue.
    """
    n, size = tf.shape(fake)[0], fake.shape[1]
    inside = _rotated_box(size, n)
    width = _uniform([n, 1, 1, 1], 1.0, 0.08 * size)
    paper = _uniform([n, 1, 1, 1], 170.0, 250.0) + _uniform([n, 1, 1, 3], -12.0, 12.0)
    bezel = _uniform([n, 1, 1, 3], 0.0, 40.0)
    border = tf.where(_uniform([n, 1, 1, 1], 0, 1) < 0.5, paper, bezel)
    scene = tf.nn.avg_pool2d(tf.reverse(tf.roll(images, 1, axis=0), axis=[2]), 3, 1, "SAME")
    scene = scene * _uniform([n, 1, 1, 1], 0.6, 1.2)
    out = tf.where(inside > width, fake, border + tf.zeros_like(fake))
    return tf.clip_by_value(tf.where(inside > 0.0, out, scene), 0.0, 255.0)


def synthesise_attacks(
    images: tf.Tensor, labels: tf.Tensor, real_index: int, attack_index: int, rate: float
) -> tuple[tf.Tensor, tf.Tensor]:
    """Replace a share `rate` of the real faces in a batch by simulated prints or replays,
    half of them shown held up inside a frame."""
    n = tf.shape(images)[0]
    fake = tf.where(_uniform([n, 1, 1, 1], 0, 1) < 0.5, print_attack(images), screen_attack(images))
    fake = tf.where(_uniform([n, 1, 1, 1], 0, 1) < 0.5, framed(fake, images), fake)
    chosen = tf.logical_and(tf.equal(labels, real_index), _uniform([n], 0, 1) < rate)
    images = tf.where(chosen[:, None, None, None], fake, images)
    labels = tf.where(chosen, tf.cast(attack_index, labels.dtype), labels)
    return images, labels
