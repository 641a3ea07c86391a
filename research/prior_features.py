"""Cache what the frozen ImageNet EfficientNet-Lite0 front sees of every corpus face, once.

    python research/prior_features.py --corpus /work/corpus --out /work/runs/prior/features.npz

Every corpus face is cut as the engine cuts it (a square 1.5x the face box, resized
to 112 px) and run once through the ImageNet-initialised Lite0 truncated after six
stages. Cached per face, as float16 below OUT only (never in the project):

- `pooled`: global-average pools after blocks 2, 4, 7, 10 and 14 (24+40+80+112+192);
- `spectrum`: the crop luma's log power spectrum pooled to 8x8 (the model's own layer);
- `map10`: the 7x7x112 map after block 10, the input of stage six for tail fine-tuning;
- `texture`: the bundled colour-texture model's score of the face (a yardstick column).

`--descriptors` writes instead the colour-texture descriptor of every face (128 px, the
package's `texture.describe`), for read-outs that stack it beside the prior's taps.

Rows follow the corpus manifest; `paths` names them, `kept` says which manifest rows
could be read.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from liveness.data.datasets import load_images, load_samples
from liveness.engine import LivenessEngine

CROP = 1.5

log = logging.getLogger("prior_features")


def feature_model(size: int = 112, stages: int = 6):
    """Lite0 with ImageNet weights, its taps and the spectrum branch as outputs (with all seven
    stages, the pools of block 15 and of the 1280-channel head join the taps)."""
    import keras
    from keras import layers

    from liveness.models.efficientnet_lite import TAPS, backbone, load_imagenet, spectrum_features

    inputs = keras.Input((size, size, 3))
    last = backbone(inputs, "lite0", stages=stages)
    model = keras.Model(inputs, last)
    taps = [layers.GlobalAveragePooling2D()(model.get_layer(f"block{b}_add").output) for b in TAPS]
    if stages == 7:
        taps += [
            layers.GlobalAveragePooling2D()(model.get_layer(n).output)
            for n in ("block15_project_bn", "head_relu")
        ]
    outputs = [layers.Concatenate()(taps), spectrum_features(inputs), model.get_layer("block10_add").output]
    full = keras.Model(inputs, outputs)
    loaded = load_imagenet(full, "lite0")
    log.info("ImageNet weights set in %d layers", loaded)
    return full


def cache_descriptors(samples, args) -> int:
    """The colour-texture descriptor of every face, cut as the bundled texture model cuts it."""
    from liveness import texture

    described, kept_all = [], []
    for start in range(0, len(samples), args.chunk):
        images, kept = load_images(samples[start : start + args.chunk], texture.INPUT_SIZE, CROP)
        described.append(texture.describe_batch(images).astype(np.float16))
        kept_all.extend(start + i for i in kept)
        log.info("%d / %d faces", start + len(kept), len(samples))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    paths = np.array([str(samples[i].path) for i in kept_all])
    np.savez(args.out, paths=paths, kept=np.array(kept_all), descriptor=np.concatenate(described))
    log.info("wrote %s", args.out)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--chunk", type=int, default=2000, help="faces decoded at a time")
    p.add_argument("--size", type=int, default=112, help="input side in px")
    p.add_argument("--stages", type=int, default=6, choices=(6, 7))
    p.add_argument("--no-maps", action="store_true", help="skip the block-10 maps and the texture scores")
    p.add_argument("--descriptors", action="store_true", help="cache colour-texture descriptors only")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    samples = load_samples(args.corpus / "manifest.csv")
    if args.descriptors:
        return cache_descriptors(samples, args)
    model = feature_model(args.size, args.stages)
    texture = LivenessEngine.load("colour-texture", detector=None)
    size = args.size
    parts: dict[str, list[np.ndarray]] = {"pooled": [], "spectrum": [], "map10": [], "texture": []}
    kept_all: list[int] = []
    for start in range(0, len(samples), args.chunk):
        chunk = samples[start : start + args.chunk]
        images, kept = load_images(chunk, size, CROP)
        pooled, spectrum, map10 = model.predict(images.astype(np.float32), batch_size=64, verbose=0)
        parts["pooled"].append(pooled.astype(np.float16))
        parts["spectrum"].append(spectrum.astype(np.float16))
        kept_all.extend(start + i for i in kept)
        log.info("%d / %d faces", start + len(chunk), len(samples))
        if args.no_maps:
            continue
        parts["map10"].append(map10.astype(np.float16))
        tex_images, tex_kept = load_images([chunk[i] for i in kept], texture.card.input_size, CROP)
        if len(tex_kept) != len(kept):
            raise SystemExit("a face readable at 112 px was unreadable at 128 px")
        parts["texture"].append(texture.score_crops(tex_images.astype(np.float32)).astype(np.float32))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        paths=np.array([str(samples[i].path) for i in kept_all]),
        kept=np.array(kept_all),
        **{k: np.concatenate(v) for k, v in parts.items() if v},
    )
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
