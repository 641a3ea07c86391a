#!/usr/bin/env python3
"""Does a colour-texture descriptor carry across sources better than the distilled network?

The student network follows its teachers on the cameras it trained on and not
on a new one (docs/across_sources.md). A fixed descriptor has nothing camera-
specific to fit but a linear read-out: uniform LBP histograms of each channel
of HSV and YCbCr (the colour-texture analysis of face anti-spoofing, where a
replay's gamut and a print's texture show in the chroma channels), plus the
radial power spectrum of the luma (screen moiré, print blur). A linear model
reads it out: a logistic regression on the labels, a ridge regression on the
teachers' cached mean score, and their mean (the blend), with the yardstick's
folds (training on every corpus face of the other sources) and its test faces
(the quick mode's 150 faces per class and source, or all with --score-cap 0).
The references and the shipped model are scored on the same faces from the
cache. --ra-devel adds the shipping rule's in-dataset check: every Replay-Attack
devel frame, by video, at a threshold fixed on held-out groups. The other options
are the candidates tried against this base (other codes, views, fits, faces),
each with the rule it was held to and its outcome in docs/across_sources.md.

    python research/experiments/colour_texture.py --corpus /work/corpus --out /work/runs/texture \
        --size 128 --crop-scale 1.5 --grid 2 --c 0.01 --alpha 100 --score-cap 0 --ra-devel
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from liveness import texture
from liveness.data.corpus import capped
from liveness.data.datasets import load_images, load_samples
from liveness.data.manifest import read_rows, write_rows
from liveness.detect import create_detector
from liveness.evaluate.metrics import apcer, auc, bpcer, eer
from liveness.io.media import read_image
from liveness.preprocess import context_crop, to_model_input

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cross_source import MIN_CAMERA_FACES, NEVER_TRAINS, calibrated_hter, folds_of, per_source_aucs


def distortion(rgb: np.ndarray) -> np.ndarray:
    """Image-distortion cues of a recapture, after Wen, Han and Jain (IEEE TIFS 2015), who built
    them for unseen databases: specular highlights (share and brightness of bright unsaturated
    pixels), blur (log Laplacian variance; the share of edge strength a 5x5 box blur removes),
    HSV moments (mean, deviation, skewness) and colour diversity (distinct colours at 32 levels a
    channel, and the share of the 100 commonest)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(np.float32) / 255
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    bright = (hsv[:, 2] > 0.85) & (hsv[:, 1] < 0.25)
    edges = np.abs(np.diff(luma, axis=1)).mean()
    kept = np.abs(np.diff(cv2.blur(luma, (5, 5)), axis=1)).mean() / (edges + 1e-6)
    mean, std = hsv.mean(axis=0), hsv.std(axis=0)
    skew = (((hsv - mean) / (std + 1e-6)) ** 3).mean(axis=0)
    q = rgb.reshape(-1, 3).astype(np.int32) // 8
    counts = np.bincount(q[:, 0] * 1024 + q[:, 1] * 32 + q[:, 2], minlength=32768)
    return np.array(
        [
            bright.mean(),
            hsv[bright, 2].mean() if bright.any() else 0.0,
            np.log1p(cv2.Laplacian(luma, cv2.CV_32F).var()),
            1.0 - kept,
            *mean,
            *std,
            *skew,
            (counts > 0).sum() / len(q),
            np.sort(counts)[-100:].sum() / len(q),
        ],
        dtype=np.float32,
    )


def features(
    rows: list[dict[str, str]], size: int, crop_scale: float, cache: Path, grid: int = 1
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Descriptor and distortion cues of every manifest row's face, computed once and cached."""
    if not cache.exists():
        manifest = cache.with_suffix(".csv")
        write_rows(manifest, rows)
        images, kept = load_images(load_samples(manifest), size, crop_scale)
        crops = [im.astype(np.uint8) for im in images]
        x = np.stack([texture.describe(im, grid) for im in tqdm(crops, desc="describing", unit="face")])
        q = np.stack([distortion(im) for im in crops])
        np.savez(cache, paths=np.array([rows[i]["path"] for i in kept]), x=x, q=q)
    with np.load(cache) as z:
        paths = z["paths"].tolist()
        return dict(zip(paths, z["x"], strict=True)), dict(zip(paths, z["q"], strict=True))


def colour_channels(rgb: np.ndarray) -> np.ndarray:
    """The six HSV and YCbCr channels of an RGB crop as float32, as the package's LBP reads them."""
    hsv, ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV), cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    return np.concatenate([hsv, ycc], axis=2).astype(np.float32)


LPQ_WINDOW = 7


def lpq(rgb: np.ndarray) -> np.ndarray:
    """Local phase quantisation of each channel: the signs of the real and imaginary parts of a
    7 x 7 short-term Fourier transform at (a, 0), (0, a), (a, a), (a, -a), a = 1/7, as an 8-bit
    code a pixel (no decorrelation); a normalised 256-bin histogram a channel, valid pixels only."""
    r = LPQ_WINDOW // 2
    x = np.arange(-r, r + 1, dtype=np.float32)
    one = np.ones_like(x)
    cos, sin = np.cos(2 * np.pi * x / LPQ_WINDOW), np.sin(2 * np.pi * x / LPQ_WINDOW)
    out = []
    for channel in cv2.split(colour_channels(rgb)):

        def sep(kx: np.ndarray, ky: np.ndarray, ch: np.ndarray = channel) -> np.ndarray:
            """The window's response with kernel kx along rows and ky down columns, valid pixels."""
            return cv2.sepFilter2D(ch, cv2.CV_32F, kx, ky)[r:-r, r:-r]

        cc, ss, sc, cs = sep(cos, cos), sep(sin, sin), sep(sin, cos), sep(cos, sin)
        parts = [sep(cos, one), -sep(sin, one), sep(one, cos), -sep(one, sin)]
        parts += [cc - ss, -(sc + cs), cc + ss, cs - sc]
        code = sum((part > 0).astype(np.int32) << bit for bit, part in enumerate(parts))
        out.append(np.bincount(code.ravel(), minlength=256) / code.size)
    return np.concatenate(out).astype(np.float32)


COALBP_DISTANCE = 2


def coalbp(rgb: np.ndarray) -> np.ndarray:
    """Co-occurrence of adjacent LBPs of each channel: the 4-neighbour LBP (up, right, down, left at
    radius 1, a 4-bit code) of each pixel paired with the code COALBP_DISTANCE pixels to the right,
    below, below-right and below-left; a normalised 256-bin histogram a direction and channel."""
    d = COALBP_DISTANCE
    out = []
    for channel in cv2.split(colour_channels(rgb)):
        centre = channel[1:-1, 1:-1]
        code = (
            (channel[:-2, 1:-1] >= centre).astype(np.int32)
            | (channel[1:-1, 2:] >= centre) << 1
            | (channel[2:, 1:-1] >= centre) << 2
            | (channel[1:-1, :-2] >= centre) << 3
        )
        h, w = code.shape
        for dy, dx in ((0, d), (d, 0), (d, d), (d, -d)):
            x0, x1 = max(0, -dx), w - max(0, dx)  # columns whose partner dx away is inside
            pairs = (code[: h - dy, x0:x1] << 4 | code[dy:, x0 + dx : x1 + dx]).ravel()
            out.append(np.bincount(pairs, minlength=256) / pairs.size)
    return np.concatenate(out).astype(np.float32)


CODES = {"lpq": lpq, "coalbp": coalbp}


def cached_per_crop(
    rows: list[dict[str, str]], args: argparse.Namespace, cache: Path, per_crop, desc: str, keep=None
) -> dict[str, np.ndarray]:
    """per_crop(uint8 crop) of each row's crop (the first --crop-scale) that `keep` admits (every
    row without it), computed once into `cache`; the rows' paths map to what it returned."""
    if not cache.exists():
        manifest = cache.with_suffix(".csv")
        write_rows(manifest, rows)  # every row: a dataset of one class is refused
        images, kept = load_images(load_samples(manifest), args.size, args.crop_scale[0])
        chosen = [(i, im) for i, im in zip(kept, images, strict=True) if keep is None or keep(rows[i])]
        x = np.stack([per_crop(im.astype(np.uint8)) for _, im in tqdm(chosen, desc=desc, unit="face")])
        np.savez(cache, paths=np.array([rows[i]["path"] for i, _ in chosen]), x=x)
    with np.load(cache) as z:
        return dict(zip(z["paths"].tolist(), z["x"], strict=True))


def code_features(rows: list[dict[str, str]], args: argparse.Namespace, kind: str, cache: Path) -> dict:
    """Another code's histograms (CODES[kind]) of every row's crop, cached; the square roots with
    --hellinger, as the LBP histograms."""
    found = cached_per_crop(rows, args, cache, CODES[kind], kind)
    return {p: np.sqrt(x) for p, x in found.items()} if args.hellinger else found


def camera_altered(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One copy of a crop as another camera might have filmed it: channel gains, a tone curve, and
    maybe JPEG, blur and noise (the ranges written in docs/across_sources.md)."""
    x = rgb.astype(np.float32) * rng.uniform(0.85, 1.15, size=3)
    x = 255.0 * (np.clip(x, 0, 255) / 255.0) ** rng.uniform(0.8, 1.25)
    out = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        _, data = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 91))])
        out = cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.0))
    if rng.random() < 0.3:
        out = np.clip(out + rng.normal(0, rng.uniform(1, 4), out.shape), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)


def altered_features(
    rows: list[dict[str, str]], args: argparse.Namespace, cache: Path
) -> dict[str, np.ndarray]:
    """The descriptors (as the read-outs see them) of --augment-copies altered copies of every
    row's crop, computed once (seed 0) and cached."""
    rng = np.random.default_rng(0)

    def copies(crop: np.ndarray) -> np.ndarray:
        return np.stack(
            [texture.describe(camera_altered(crop, rng), args.grid) for _ in range(args.augment_copies)]
        )

    empty = np.zeros(0, np.float32)
    found = cached_per_crop(rows, args, cache, copies, "altering")
    return {p: np.stack([variant(v, empty, args) for v in x]) for p, x in found.items()}


def recaptured(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A synthetic recapture of a live crop (the steps and ranges written in docs/across_sources.md):
    detail loss, a display's or paper's tone, a screen's grating or a print's grain, JPEG."""
    side = rgb.shape[0]
    small = max(8, round(side * rng.uniform(0.45, 0.8)))
    x = cv2.resize(cv2.resize(rgb, (small, small), interpolation=cv2.INTER_AREA), (side, side))
    x = x.astype(np.float32)
    grey = x.mean(axis=2, keepdims=True)
    x = grey + rng.uniform(0.7, 1.0) * (x - grey)
    black, white = rng.uniform(10, 40), rng.uniform(200, 245)
    x = black + (white - black) * np.clip(x, 0, 255) / 255.0
    if rng.random() < 0.5:
        yy, xx = np.mgrid[:side, :side].astype(np.float32)
        angle, period = rng.uniform(0, np.pi), rng.uniform(2.5, 6.0)
        phase = 2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period
        x = x + rng.uniform(2, 6) * np.sin(phase)[..., None]
    else:
        grain = rng.normal(0, rng.uniform(2, 5), x.shape).astype(np.float32)
        x = x + cv2.GaussianBlur(grain, (0, 0), 0.5)
    out = np.clip(x, 0, 255).astype(np.uint8)
    _, data = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 91))])
    return np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1])


def synthetic_attacks(rows: list[dict[str, str]], args: argparse.Namespace, cache: Path) -> dict:
    """The descriptors (as the read-outs see them) of one synthetic recapture of every live row's
    crop, computed once (seed 0) and cached."""
    rng = np.random.default_rng(0)

    def recapture(crop: np.ndarray) -> np.ndarray:
        return texture.describe(recaptured(crop, rng), args.grid)

    found = cached_per_crop(rows, args, cache, recapture, "recapturing", lambda r: r["label"] == "real")
    empty = np.zeros(0, np.float32)
    return {p: variant(x, empty, args) for p, x in found.items()}


def restandardised(model: texture.TextureModel, mean: np.ndarray, scale: np.ndarray) -> tuple:
    """The ridge read-out of `model` as weights and bias on descriptors standardised by `mean` and
    `scale` instead of its own (the same linear function of the raw descriptor)."""
    coef = model.teacher_coef * scale / model.scale
    bias = model.teacher_bias + float(((mean - model.mean) / model.scale) @ model.teacher_coef)
    return coef.astype(np.float32), bias


def corpus_faces(
    corpus: Path, cache: Path, args: argparse.Namespace
) -> tuple[list[dict[str, str]], dict[str, np.ndarray], dict[str, dict[str, str]]]:
    """A corpus's rows that have a descriptor and teacher scores, each face's descriptor as the
    read-outs see it, and its cached scores (descriptors computed once into `cache`)."""
    cache.mkdir(parents=True, exist_ok=True)
    rows = read_rows(corpus / "manifest.csv")
    views = [(args.size, c) for c in args.crop_scale]
    views += [(size, args.crop_scale[0]) for size in getattr(args, "extra_size", None) or []]
    per_scale = [
        features(rows, size, c, cache / f"features-s{size}-c{c}-g{args.grid}.npz", args.grid)
        for size, c in views
    ]
    x_of = {
        p: np.concatenate([variant(x[p], q[p], args) for x, q in per_scale])
        for p in per_scale[0][0]
        if all(p in x for x, _ in per_scale)
    }
    for kind in [k for k in CODES if getattr(args, k, False)]:
        more = code_features(rows, args, kind, cache / f"{kind}-s{args.size}-c{args.crop_scale[0]}.npz")
        x_of = {p: np.concatenate([x, more[p]]) for p, x in x_of.items() if p in more}
    scored = corpus / "teachers.csv"
    teachers = {r["path"]: r for r in read_rows(scored)} if scored.exists() else {}
    return [r for r in rows if r["path"] in x_of and r["path"] in teachers], x_of, teachers


def replay_attack_devel(args, rows, x_of, teachers) -> dict:
    """The shipping rule's in-dataset check: fit on every source but Replay-Attack devel (three
    quarters of the groups), threshold at the EER of the other quarter, and score all 3,600 devel
    frames (10 a video, res10's largest face) by video, as a user's camera meets them."""
    rng = np.random.default_rng(42)
    train_rows = [r for r in rows if r["source_name"] != NEVER_TRAINS]
    groups = sorted({r["subject"] for r in train_rows})
    held = set(rng.choice(groups, len(groups) // 4, replace=False).tolist())
    fit_rows = [r for r in train_rows if r["subject"] not in held]
    val_rows = [r for r in train_rows if r["subject"] in held]

    blend = fitted(args, fit_rows, x_of, teachers).real_probability
    xv = np.stack([x_of[r["path"]] for r in val_rows])
    threshold = eer(np.array([r["label"] == "real" for r in val_rows]), blend(xv))[1]
    index = args.shared / "data" / "replay-attack" / "index.csv"
    detector = create_detector("res10")
    by_video: dict[str, list[float]] = {}
    is_real: dict[str, bool] = {}
    for row in tqdm(
        [r for r in read_rows(index) if r["split"] == "devel"], desc="devel frames", unit="frame"
    ):
        frame = read_image(index.parent / row["path"])
        faces = detector.detect(frame)
        if not faces:
            continue
        face = max(faces, key=lambda f: f.w * f.h)
        crop = to_model_input([context_crop(frame, face.box, args.crop_scale[0])], args.size)[0]
        crop = crop.astype(np.uint8)
        d = variant(texture.describe(crop, args.grid), distortion(crop), args)
        by_video.setdefault(row["video_id"], []).append(float(blend(d[None])[0]))
        is_real[row["video_id"]] = row["label"] == "real"
    score = np.array([np.mean(v) for v in by_video.values()])
    real = np.array([is_real[k] for k in by_video])
    attacks_accepted, lives_refused = apcer(score[~real], threshold), bpcer(score[real], threshold)
    return {
        "videos": len(score),
        "video_auc": auc(real, score),
        "threshold": float(threshold),
        "apcer": attacks_accepted,
        "bpcer": lives_refused,
        "acer": (attacks_accepted + lives_refused) / 2,
        "video_eer": eer(real, score)[0],
    }


def source_weights(rows: list[dict[str, str]]) -> np.ndarray:
    """Each face's weight when every source carries the same total (1 / its source's faces),
    rescaled to a mean of 1 so the read-outs' regularisation keeps its strength."""
    sources = [r["source_name"] for r in rows]
    size = {s: sources.count(s) for s in set(sources)}
    w = np.array([1.0 / size[s] for s in sources])
    return w / w.mean()


def fraction_of_each_source(rows: list[dict[str, str]], fraction: float) -> list[dict[str, str]]:
    """A random `fraction` of each source's faces (at least one), the same draw on every run."""
    rng = np.random.default_rng(7)
    kept = []
    for source in sorted({r["source_name"] for r in rows}):
        part = [r for r in rows if r["source_name"] == source]
        picked = rng.choice(len(part), max(1, round(fraction * len(part))), replace=False)
        kept += [part[i] for i in sorted(picked)]
    return kept


MIN_LIVE_TO_CENTRE = 20  # live faces a camera needs before its mean is worth subtracting


def live_faces(rows: list[dict[str, str]], first_half: bool) -> dict[str, list[str]]:
    """The paths of each source's live faces in file order (with `first_half`, the first half of
    them: the footage `liveness calibrate` would see), for sources with MIN_LIVE_TO_CENTRE or more."""
    found = {}
    for source in sorted({r["source_name"] for r in rows}):
        live = sorted(r["path"] for r in rows if r["source_name"] == source and r["label"] == "real")
        if len(live) >= MIN_LIVE_TO_CENTRE:
            found[source] = live[: len(live) // 2] if first_half else live
    return found


def centred(rows: list[dict[str, str]], x_of, footage: dict[str, list[str]]) -> np.ndarray:
    """The rows' descriptors, each minus the mean descriptor of its source's live `footage`."""
    centres = {s: np.mean([x_of[p] for p in paths], axis=0) for s, paths in footage.items()}
    return np.stack([x_of[r["path"]] - centres[r["source_name"]] for r in rows])


def centred_fold(args: argparse.Namespace, train_rows, test_rows, x_of, teachers) -> dict:
    """--centre's judgment of one fold: each left-out camera centred on the first half of its live
    faces, which also set its calibrated threshold (refusing 5 % of them) and are then set aside;
    the uncentred blend and the references judged on the same faces by the same rule."""
    footage = live_faces(test_rows, first_half=True)
    rows = [r for r in test_rows if r["source_name"] in footage]
    plain = argparse.Namespace(**{**vars(args), "centre": False})
    scores = {
        "centred": fitted(args, train_rows, x_of, teachers).real_probability(centred(rows, x_of, footage)),
        "blend": fitted(plain, train_rows, x_of, teachers).real_probability(
            np.stack([x_of[r["path"]] for r in rows])
        ),
        **{
            ref: np.array([float(teachers[r["path"]][ref]) for r in rows]) for ref in ("celeba", "silentface")
        },
    }
    is_real = np.array([r["label"] == "real" for r in rows])
    paths = np.array([r["path"] for r in rows])
    judged = ~np.isin(paths, [p for first_half in footage.values() for p in first_half])
    sources = np.array([r["source_name"] for r in rows])
    cameras = [
        s
        for s in footage
        if (judged & (sources == s)).sum() >= MIN_CAMERA_FACES
        and len(set(is_real[judged & (sources == s)])) == 2
    ]
    found = {}
    for k, v in scores.items():
        aucs = [auc(is_real[judged & (sources == s)], v[judged & (sources == s)]) for s in cameras]
        # calibrated_hter splits each camera's live faces as live_faces did: first half calibrates
        hters = [
            calibrated_hter(paths[sources == s].tolist(), is_real[sources == s], v[sources == s])
            for s in cameras
        ]
        found[k] = {
            "auc": auc(is_real[judged], v[judged]),
            "median_camera": float(np.median(aucs or [np.nan])),
            "calibrated_hters": hters,
        }
    return found


def fitted(args: argparse.Namespace, rows: list[dict[str, str]], x_of, teachers) -> texture.TextureModel:
    """The read-outs fitted on `rows` (with --train-fraction on part of them, with --balance each
    source weighted alike, with --centre each source centred on its live faces); variant() has
    already mapped the descriptors."""
    if args.train_fraction < 1:
        rows = fraction_of_each_source(rows, args.train_fraction)
    if args.centre:
        footage = live_faces(rows, first_half=False)
        rows = [r for r in rows if r["source_name"] in footage]
        x = centred(rows, x_of, footage)
    else:
        x = np.stack([x_of[r["path"]] for r in rows])
    y = np.array([r["label"] == "real" for r in rows])
    target = np.array([float(teachers[r["path"]]["teacher"]) for r in rows])
    if getattr(args, "altered", None):  # each face's altered copies, with its label and score
        copies = [args.altered[r["path"]] for r in rows]
        x = np.concatenate([x, *np.swapaxes(np.stack(copies), 0, 1)])
        y, target = np.tile(y, 1 + len(copies[0])), np.tile(target, 1 + len(copies[0]))
    if getattr(args, "teacher_logit", False):
        target = np.log(np.clip(target, 0.01, 0.99) / (1 - np.clip(target, 0.01, 0.99)))
    weights = source_weights(rows) if args.balance else None
    if getattr(args, "lpq_labels_only", False):
        return lpq_in_labels_only(x, y, target, args, weights)
    if getattr(args, "synthetic", None):
        return with_synthetic_attacks(rows, x, y, target, args)
    if getattr(args, "within_source", False):
        return ranked_within_sources(rows, x, y, target, args)
    return texture.fit(x, y, target, 1, args.c, args.alpha, root=False, weights=weights)


def with_synthetic_attacks(rows, x, y, target, args) -> texture.TextureModel:
    """The labels' read-out on the training faces and a synthetic recapture of each live one (an
    attack), the teachers' ridge on the training faces alone, both in the first's standardisation."""
    fakes = np.stack([args.synthetic[r["path"]] for r in rows if r["label"] == "real"])
    labels = texture.fit(
        np.concatenate([x, fakes]),
        np.concatenate([y, np.zeros(len(fakes), bool)]),
        None,
        1,
        args.c,
        root=False,
    )
    ridge = texture.fit(x, y, target, 1, args.c, args.alpha, root=False)
    coef, bias = restandardised(ridge, labels.mean, labels.scale)
    return dataclasses.replace(labels, teacher_coef=coef, teacher_bias=bias)


PARTNERS = 5  # attack faces of its own source each live face is compared with


def within_source_pairs(rows, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """z_live - z_attack for each live face and PARTNERS attack faces of its own source (seeded)."""
    rng = np.random.default_rng(0)
    sources = np.array([r["source_name"] for r in rows])
    diffs = []
    for source in sorted(set(sources)):
        live, attack = np.flatnonzero((sources == source) & y), np.flatnonzero((sources == source) & ~y)
        if not len(live) or not len(attack):
            continue
        for i in live:
            partners = rng.choice(attack, min(PARTNERS, len(attack)), replace=False)
            diffs.append(z[i] - z[partners])
    return np.concatenate(diffs)


def ranked_within_sources(rows, x, y, target, args) -> texture.TextureModel:
    """The labels' read-out fitted on comparisons inside each training source only (a pairwise
    logistic regression without intercept; a camera's offset cancels in each difference), mapped to
    a probability by a 1-D logistic fit of the training labels on its score; the ridge as before."""
    from sklearn.linear_model import LogisticRegression

    base = texture.fit(x, y, target, 1, args.c, args.alpha, root=False)
    z = (x - base.mean) / base.scale
    d = within_source_pairs(rows, z, y)
    pairs = np.concatenate([d, -d])
    wins = np.concatenate([np.ones(len(d), int), np.zeros(len(d), int)])
    c = args.c * len(rows) / len(pairs)
    w = LogisticRegression(C=c, fit_intercept=False, max_iter=3000).fit(pairs, wins).coef_[0]
    scale = LogisticRegression(C=1e6, max_iter=1000).fit((z @ w)[:, None], y.astype(int))
    coef = (w * scale.coef_[0, 0]).astype(np.float32)
    return dataclasses.replace(base, labels_coef=coef, labels_bias=float(scale.intercept_[0]))


def lpq_in_labels_only(x, y, target, args, weights) -> texture.TextureModel:
    """The labels' read-out on the whole descriptor, the teachers' ridge on the base descriptor
    alone: its weights on the appended LPQ values are zero (ridge on a subset of standardised
    columns is ridge on all of them with the others held at zero)."""
    base = x.shape[1] - 6 * 256
    labels = texture.fit(x, y, None, 1, args.c, args.alpha, root=False, weights=weights)
    ridge = texture.fit(x[:, :base], y, target, 1, args.c, args.alpha, root=False, weights=weights)
    coef = np.concatenate([ridge.teacher_coef, np.zeros(x.shape[1] - base, np.float32)])
    return dataclasses.replace(labels, teacher_coef=coef, teacher_bias=ridge.teacher_bias)


def camera_axes_removed(train_rows, test_rows, x_of, k: int) -> dict[str, np.ndarray]:
    """Every fold face's descriptor without the k leading principal directions of the training
    sources' live means (sources with 20 live faces or more), in units of the training spread."""
    x = np.stack([x_of[r["path"]] for r in train_rows])
    scale = x.std(axis=0)
    scale[scale < 1e-8] = 1.0
    live = defaultdict(list)
    for r, v in zip(train_rows, x, strict=True):
        if r["label"] == "real":
            live[r["source_name"]].append(v / scale)
    means = np.stack([np.mean(v, axis=0) for v in live.values() if len(v) >= 20])
    axes = np.linalg.svd(means - means.mean(axis=0), full_matrices=False)[2][:k]
    out = {}
    for r in [*train_rows, *test_rows]:
        z = x_of[r["path"]] / scale
        out[r["path"]] = ((z - (z @ axes.T) @ axes) * scale).astype(np.float32)
    return out


def logit_read_out(model: texture.TextureModel, x: np.ndarray) -> dict[str, np.ndarray]:
    """With --teacher-logit the ridge estimates log-odds: back through the logistic function, and
    the blend with the labels' read-out made from that (replacing the clipped ones)."""
    z = (x - model.mean) / model.scale
    distilled = 1.0 / (1.0 + np.exp(-(z @ model.teacher_coef + model.teacher_bias)))
    return {"distilled": distilled, "blend": (model.labels_probability(x) + distilled) / 2}


def variant(x: np.ndarray, q: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    """The descriptor as the read-outs see it: with --hellinger the square root of each histogram
    (a linear model on it compares histograms as the Hellinger kernel does, not bin by bin), with
    --distortion the image-distortion cues appended, with --chi2 the additive chi-squared kernel's
    feature map of the histograms (each bin three values; the spectrum, a log, kept)."""
    if args.hellinger:
        x = texture.hellinger(x)
    if args.chi2:
        from sklearn.kernel_approximation import AdditiveChi2Sampler

        bins = x[..., : -texture.SPECTRUM_BINS].reshape(-1, x.shape[-1] - texture.SPECTRUM_BINS)
        mapped = AdditiveChi2Sampler(sample_steps=2).fit_transform(bins).astype(np.float32)
        x = np.concatenate([mapped.reshape(*x.shape[:-1], -1), x[..., -texture.SPECTRUM_BINS :]], axis=-1)
    return np.concatenate([x, q]) if args.distortion else x


def refuse_combinations(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """One clear error for candidates that cannot be combined: each changes the fit its own way,
    and fitted() would otherwise drop one of them without a word."""
    fits = [args.lpq_labels_only, args.synthetic_attacks, args.within_source]
    if sum(map(bool, fits)) > 1:
        p.error("--lpq-labels-only, --synthetic-attacks and --within-source are separate fits: one at a time")
    if args.lpq_labels_only and (not args.lpq or args.coalbp):
        p.error("--lpq-labels-only needs --lpq, as the last values of the descriptor (no --coalbp)")
    descriptor_changed = (
        args.lpq or args.coalbp or args.distortion or len(args.crop_scale) > 1 or args.extra_size
    )
    if args.synthetic_attacks and (
        descriptor_changed
        or args.balance
        or args.centre
        or args.train_fraction < 1
        or args.augment_copies
        or args.train_corpus
    ):
        p.error("--synthetic-attacks takes the base descriptor and fit, and no other change")
    if args.within_source and (args.balance or args.augment_copies):
        p.error(
            "--within-source weighs every pair alike and pairs the faces themselves: no --balance or copies"
        )
    special = args.teacher_logit or args.project_out or args.augment_copies or args.extra_size
    if special and (args.ra_devel or args.centre or args.with_run or args.train_corpus):
        p.error(
            "--teacher-logit, --project-out and --augment-copies are scored on the yardstick's folds only"
        )
    if args.augment_copies and (args.project_out or descriptor_changed):
        p.error("--augment-copies takes one crop scale and no other descriptor change")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--size", type=int, default=64, help="crop side in pixels")
    p.add_argument(
        "--crop-scale",
        type=float,
        nargs="+",
        default=[1.0],
        help="crop side / face box side; several concatenate",
    )
    p.add_argument(
        "--with-run",
        type=Path,
        help="a cross_source.py run on the same corpus: also score its student and its mean with the blend",
    )
    p.add_argument("--grid", type=int, default=1, help="also LBP over grid x grid cells")
    p.add_argument(
        "--alpha", type=float, default=10.0, help="L2 strength of the ridge read-out of the teachers"
    )
    p.add_argument("--hellinger", action="store_true", help="square roots of the histograms")
    p.add_argument("--distortion", action="store_true", help="append the image-distortion cues")
    p.add_argument(
        "--chi2", action="store_true", help="the additive chi-squared feature map of the histograms"
    )
    p.add_argument(
        "--centre",
        action="store_true",
        help="centre each camera on its live faces (a left-out one on half of them, then set aside)",
    )
    p.add_argument("--balance", action="store_true", help="every training source weighs the same in total")
    p.add_argument(
        "--teacher-logit", action="store_true", help="the ridge fits the teachers' score as log-odds"
    )
    p.add_argument("--lpq", action="store_true", help="append local phase quantisation histograms")
    p.add_argument(
        "--lpq-labels-only", action="store_true", help="with --lpq: the ridge reads the base descriptor"
    )
    p.add_argument(
        "--synthetic-attacks", action="store_true", help="a synthetic recapture of each training live face"
    )
    p.add_argument(
        "--within-source", action="store_true", help="the labels' read-out ranks faces within each source"
    )
    p.add_argument("--coalbp", action="store_true", help="append co-occurrence of adjacent LBP histograms")
    p.add_argument(
        "--extra-size", type=int, nargs="+", help="also the descriptors at these sizes, concatenated"
    )
    p.add_argument(
        "--augment-copies",
        type=int,
        default=0,
        help="also fit on this many camera-altered copies of every training face",
    )
    p.add_argument(
        "--project-out",
        type=int,
        default=0,
        help="remove this many leading directions of the training sources' live means",
    )
    p.add_argument(
        "--train-fraction", type=float, default=1.0, help="fit on this random share of each source's faces"
    )
    p.add_argument("--ra-devel", action="store_true", help="also the in-dataset check on Replay-Attack devel")
    p.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[3] / "shared")
    p.add_argument("--c", type=float, default=0.1, help="inverse L2 strength of the logistic read-out")
    p.add_argument(
        "--score-cap", type=int, default=150, help="faces per class and source scored (0: all, the full mode)"
    )
    p.add_argument(
        "--train-corpus",
        type=Path,
        help="fit on this corpus's faces (say, one built with a higher --cap) and judge --corpus's",
    )
    args = p.parse_args()
    refuse_combinations(p, args)
    args.out.mkdir(parents=True, exist_ok=True)
    if not (args.corpus / "teachers.csv").exists():
        corpus_faces(args.corpus, args.out, args)
        print("descriptors cached; score the teachers (recipes/score_teachers.py) to fit and judge")
        return 0
    rows, x_of, teachers = corpus_faces(args.corpus, args.out, args)
    if args.synthetic_attacks:
        cache = args.out / f"synthetic-s{args.size}-c{args.crop_scale[0]}-g{args.grid}.npz"
        args.synthetic = synthetic_attacks(rows, args, cache)
    if args.augment_copies:
        cache = (
            args.out / f"altered-s{args.size}-c{args.crop_scale[0]}-g{args.grid}-k{args.augment_copies}.npz"
        )
        args.altered = altered_features(rows, args, cache)
    pool = rows
    if args.train_corpus:
        pool, x_more, teachers_more = corpus_faces(args.train_corpus, args.out / args.train_corpus.name, args)
        x_of, teachers = {**x_of, **x_more}, {**teachers, **teachers_more}
    results = {}
    for name, left_out in folds_of(read_rows(args.corpus / "sources.csv")).items():
        test_rows = capped([r for r in rows if r["source_name"] in left_out], args.score_cap or None)
        judged = {r["sha256"] for r in rows if r["source_name"] in left_out}
        train_rows = [
            r for r in pool if r["source_name"] not in [*left_out, NEVER_TRAINS] and r["sha256"] not in judged
        ]
        if args.centre:
            results[name] = centred_fold(args, train_rows, test_rows, x_of, teachers)
            print(name, {k: round(v["auc"], 3) for k, v in results[name].items()}, flush=True)
            continue
        x_fold = (
            camera_axes_removed(train_rows, test_rows, x_of, args.project_out) if args.project_out else x_of
        )
        x_test = np.stack([x_fold[r["path"]] for r in test_rows])
        is_real = np.array([r["label"] == "real" for r in test_rows])
        model = fitted(args, train_rows, x_fold, teachers)
        scores = {
            "labels": model.labels_probability(x_test),
            "distilled": model.teacher_score(x_test),
            "blend": model.real_probability(x_test),
            **(logit_read_out(model, x_test) if args.teacher_logit else {}),
            **{
                ref: np.array([float(teachers[r["path"]][ref]) for r in test_rows])
                for ref in ("teacher", "celeba", "silentface", "shipped")
            },
        }
        scores["shipped+blend"] = (scores["shipped"] + scores["blend"]) / 2
        if args.with_run:
            student = {r["path"]: float(r["student"]) for r in read_rows(args.with_run / name / "scores.csv")}
            shared = np.array([r["path"] in student for r in test_rows])
            test_rows = [r for r, keep in zip(test_rows, shared, strict=True) if keep]
            is_real = is_real[shared]
            scores = {k: v[shared] for k, v in scores.items()}
            scores["student"] = np.array([student[r["path"]] for r in test_rows])
            scores["student+blend"] = (scores["student"] + scores["blend"]) / 2
        sources = [r["source_name"] for r in test_rows]
        per_source = per_source_aucs(left_out, sources, is_real, scores, [r["path"] for r in test_rows])
        cameras = [found for found in per_source.values() if found["n"] >= MIN_CAMERA_FACES]
        results[name] = {
            k: {
                "auc": auc(is_real, s),
                "median_camera": float(np.median([c[f"{k}_auc"] for c in cameras] or [np.nan])),
                "calibrated_hters": [c[f"{k}_calibrated_hter"] for c in cameras],
            }
            for k, s in scores.items()
        }
        print(name, {k: round(v["auc"], 3) for k, v in results[name].items()}, flush=True)
    for k in next(iter(results.values())):
        aucs = [f[k]["auc"] for f in results.values()]
        hters = [h for f in results.values() for h in f[k]["calibrated_hters"] if h is not None]
        print(
            f"{k}: mean {np.mean(aucs):.3f} worst {np.min(aucs):.3f}; median camera HTER calibrated "
            f"on half its live faces {100 * np.median(hters):.1f} % ({len(hters)} cameras)"
        )
    if args.ra_devel:
        results["replay-attack-devel (in-dataset)"] = replay_attack_devel(args, pool, x_of, teachers)
        print(results["replay-attack-devel (in-dataset)"])
    tag = "-".join(f"c{c}" for c in args.crop_scale) + f"-s{args.size}-g{args.grid}-C{args.c}-a{args.alpha}"
    tag += (
        "-hellinger" * args.hellinger
        + "-distortion" * args.distortion
        + "-balance" * args.balance
        + "-chi2" * args.chi2
        + "-centre" * args.centre
        + "-teacher-logit" * args.teacher_logit
        + f"-project{args.project_out}" * bool(args.project_out)
        + f"-altered{args.augment_copies}" * bool(args.augment_copies)
        + "".join(f"-plus{size}" for size in args.extra_size or [])
        + "-lpq" * args.lpq
        + "-labels-only" * args.lpq_labels_only
        + "-synthetic" * args.synthetic_attacks
        + "-within-source" * args.within_source
        + "-coalbp" * args.coalbp
    )
    tag += f"-f{args.train_fraction}" * (args.train_fraction < 1)
    if args.train_corpus:
        tag += f"-train-{args.train_corpus.name}"
    report = {"args": {k: str(v) for k, v in vars(args).items()}, "folds": results}
    (args.out / f"results-{tag}.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
