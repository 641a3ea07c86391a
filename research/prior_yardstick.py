"""The source-held-out yardstick for read-outs of the ImageNet EfficientNet-Lite0 prior.

    python research/prior_yardstick.py --corpus /work/corpus --features /work/runs/prior/features.npz \
        --candidate lr-spectrum --seeds 1 2 3 --out /work/runs/prior/lr-spectrum

The folds, metrics and reference columns are `research/cross_source.py`'s (full mode:
every corpus face): each fold leaves one group of sources out, fits on every other source
but Replay-Attack devel, fixes the threshold by the median-of-sources rule on out-of-fold
scores of 4 folds of whole training groups, and scores the left-out faces unchanged.
Features come from `prior_features.py` (one cached view per face), so a read-out fits in
seconds and a tail in minutes. Replay-Attack devel is scored by a model fitted on every
other source, at that model's threshold, at video level (the shipping rule's guard (b)).

Candidates:
- `lr`, `lr-spectrum`: logistic regression on the pooled taps (with the luma spectrum);
- `mlp-spectrum`: one hidden layer of 128 on the same, seeded;
- any of them with `-tex`: the colour-texture descriptor stacked beside (`--descriptors`);
- any of them `+teacher`: the target mixes label and the references' mean score, half each
  (`+teacher75`: three quarters the references');
- `tail-spectrum`: stage six fine-tuned from ImageNet on the cached block-10 maps, its
  pool beside the other taps and the spectrum, seeded (threshold from one group split).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cross_source import (
    REFERENCES,
    folds_of,
    measure,
    per_source_aucs,
    reference_scores,
    summary_markdown,
)

from liveness.data.manifest import read_rows
from liveness.evaluate.metrics import auc, eer
from liveness.texture import hellinger
from liveness.train import typical_source_threshold
from liveness.train_readout import source_weights

JUDGED = "replay-attack-devel"
INNER_FOLDS = 4
log = logging.getLogger("prior_yardstick")


def load(corpus: Path, features: Path, descriptors: Path | None = None) -> dict:
    """Rows, features (and colour-texture descriptors) and cached reference scores, face by face."""
    cached = np.load(features)
    described = None
    if descriptors is not None:
        with np.load(descriptors) as d:
            where = {int(k): i for i, k in enumerate(d["kept"])}
            missing = [k for k in cached["kept"] if int(k) not in where]
            if missing:
                raise SystemExit(f"{len(missing)} faces have features but no descriptor")
            described = hellinger(d["descriptor"][[where[int(k)] for k in cached["kept"]]].astype(np.float32))
    rows = read_rows(corpus / "manifest.csv")
    rows = [rows[i] for i in cached["kept"]]
    teachers = {r["path"]: r for r in read_rows(corpus / "teachers.csv")}
    keep = np.array([r["path"] in teachers for r in rows])
    rows = [r for r, k in zip(rows, keep, strict=True) if k]
    return {
        "rows": rows,
        "pooled": cached["pooled"][keep].astype(np.float32),
        "spectrum": cached["spectrum"][keep].astype(np.float32),
        "map10": cached["map10"][keep] if "map10" in cached else None,
        "descriptor": described[keep] if described is not None else None,
        "teachers": teachers,
        "is_real": np.array([r["label"] == "real" for r in rows]),
        "source": np.array([r["source_name"] for r in rows]),
        "group": np.array([r.get("group") or r["source_name"] for r in rows]),
    }


def design(data: dict, candidate: str) -> np.ndarray:
    """The read-out's inputs: the pools (`-s6`: only those of stages 2-6, 448 values), the spectrum,
    (`-tex`) the colour-texture descriptor's square roots."""
    parts = [data["pooled"][:, :448] if "-s6" in candidate else data["pooled"]]
    if "spectrum" in candidate:
        parts.append(data["spectrum"])
    if "-tex" in candidate:
        if data["descriptor"] is None:
            raise SystemExit("a -tex candidate needs --descriptors")
        parts.append(data["descriptor"])
    return np.concatenate(parts, axis=1)


def targets(data: dict, idx: np.ndarray, candidate: str) -> np.ndarray:
    y = data["is_real"][idx].astype(np.float32)
    if "+teacher" in candidate:
        t = np.array([float(data["teachers"][data["rows"][i]["path"]]["teacher"]) for i in idx])
        share = 0.75 if "+teacher75" in candidate else 0.5
        y = (1 - share) * y + share * t
    return y


def fit_predict(data, train_idx, test_idx, candidate, seed) -> np.ndarray:
    """Fit on train_idx (soft targets as a weighted pair of hard ones), score test_idx."""
    x = design(data, candidate)
    scaler = StandardScaler().fit(x[train_idx])
    xtr, xte = scaler.transform(x[train_idx]), scaler.transform(x[test_idx])
    y = targets(data, train_idx, candidate)
    w = source_weights(list(data["source"][train_idx]), data["is_real"][train_idx])  # as `train` weighs
    if candidate.startswith("mlp"):
        return _mlp(xtr, y, w, xte, seed)
    if candidate.startswith("tail"):
        return _tail(data, train_idx, test_idx, xtr, xte, y, w, seed)
    model = LogisticRegression(C=0.05, max_iter=2000)
    both_x = np.concatenate([xtr, xtr])
    both_y = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    both_w = np.concatenate([w * y, w * (1 - y)])
    model.fit(both_x, both_y, sample_weight=both_w + 1e-9)
    return model.predict_proba(xte)[:, 1]


def _mlp(xtr, y, w, xte, seed) -> np.ndarray:
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((xtr.shape[1],)),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(128, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-3)),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    model.fit(xtr, y, sample_weight=w, epochs=30, batch_size=128, verbose=0)
    return model.predict(xte, verbose=0, batch_size=1024)[:, 0]


TAIL_EPOCHS = 3


def _tail(data, train_idx, test_idx, xtr, xte, y, w, seed) -> np.ndarray:
    """Stage six (blocks 11-14) fine-tuned from ImageNet on the cached block-10 maps; its pooled
    output joins the standardised taps and spectrum in a logistic read-out. Adam 3e-4, 3 epochs,
    batch 64, each map flipped left-right at random (the one augmentation a cached map allows)."""
    import keras
    from keras import layers

    from liveness.models.efficientnet_lite import STAGES, _mbconv, load_imagenet

    keras.utils.set_random_seed(seed)
    maps = keras.Input((7, 7, 112), name="map10")
    side = keras.Input((xtr.shape[1],), name="side")
    x = layers.RandomFlip("horizontal", seed=seed)(maps)
    expand, kernel, stride, out, _ = STAGES[5]
    for i, block in enumerate(range(11, 15)):
        x = _mbconv(x, expand, kernel, stride if i == 0 else 1, out, f"block{block}")
    pooled = layers.GlobalAveragePooling2D()(x)
    features = layers.Concatenate()([layers.BatchNormalization(name="pool_norm")(pooled), side])
    features = layers.Dropout(0.3)(features)
    output = layers.Dense(1, activation="sigmoid", kernel_regularizer=keras.regularizers.l2(1e-3))(features)
    model = keras.Model([maps, side], output)
    load_imagenet(model, "lite0")
    model.compile(keras.optimizers.Adam(3e-4), "binary_crossentropy")
    map10 = data["map10"]
    model.fit(
        {"map10": map10[train_idx].astype(np.float32), "side": xtr},
        y,
        sample_weight=w,
        epochs=TAIL_EPOCHS,
        batch_size=64,
        verbose=0,
    )
    return model.predict(
        {"map10": map10[test_idx].astype(np.float32), "side": xte}, verbose=0, batch_size=256
    )[:, 0]


def inner_threshold(data, train_idx, candidate, seed) -> tuple[float, str]:
    """The median-of-sources EER point on out-of-fold scores of whole training groups (for a
    tail, whose fits take minutes, on one held-out quarter of the groups)."""
    groups = data["group"][train_idx]
    names = np.unique(groups)
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(names, rng.permutation(len(names)) % INNER_FOLDS, strict=True))
    fold = np.array([fold_of[g] for g in groups])
    oof = np.full(len(train_idx), np.nan)
    for k in range(1 if candidate.startswith("tail") else INNER_FOLDS):
        held = fold == k
        oof[held] = fit_predict(data, train_idx[~held], train_idx[held], candidate, seed)
    scored = ~np.isnan(oof)
    return typical_source_threshold(
        data["is_real"][train_idx][scored], oof[scored], list(data["source"][train_idx][scored])
    )


def run_fold(data, name, left_out, candidate, seed) -> dict:
    test = np.flatnonzero(np.isin(data["source"], left_out))
    train = np.flatnonzero(~np.isin(data["source"], [*left_out, JUDGED]))
    threshold, how = inner_threshold(data, train, candidate, seed)
    student = fit_predict(data, train, test, candidate, seed)
    is_real = data["is_real"][test]
    paths = [data["rows"][i]["path"] for i in test]
    scores_of = {"student": student, **reference_scores(data["teachers"], paths)}
    systems = {"student": measure(is_real, student, threshold)}
    train_scores = reference_scores(data["teachers"], [data["rows"][i]["path"] for i in train])
    for ref in REFERENCES:
        ref_threshold = 0.5438 if ref == "shipped" else eer(data["is_real"][train], train_scores[ref])[1]
        systems[ref] = measure(is_real, scores_of[ref], ref_threshold)
    sources = list(data["source"][test])
    return {
        "left_out": left_out,
        "threshold_rule": how,
        "systems": systems,
        "per_source": per_source_aucs(left_out, sources, is_real, scores_of, paths),
    }


def devel_check(data, candidate, seed) -> dict:
    """Replay-Attack devel at the threshold of a model fitted on every other source, per video."""
    test = np.flatnonzero(data["source"] == JUDGED)
    train = np.flatnonzero(data["source"] != JUDGED)
    threshold, _ = inner_threshold(data, train, candidate, seed)
    scores = fit_predict(data, train, test, candidate, seed)
    videos = np.array([data["rows"][i].get("video_id") or data["rows"][i]["path"] for i in test])
    is_real = data["is_real"][test]
    names = np.unique(videos)
    v_score = np.array(
        [np.mean(np.log(scores[videos == v] + 1e-6) - np.log(1 - scores[videos == v] + 1e-6)) for v in names]
    )
    v_real = np.array([is_real[videos == v][0] for v in names])
    logit_t = np.log(threshold + 1e-6) - np.log(1 - threshold + 1e-6)
    apcer_v = float(np.mean(v_score[~v_real] >= logit_t))
    bpcer_v = float(np.mean(v_score[v_real] < logit_t))
    return {
        "frame_auc": auc(is_real, scores),
        "video_auc": auc(v_real, v_score),
        "video_acer": (apcer_v + bpcer_v) / 2,
        "video_apcer": apcer_v,
        "video_bpcer": bpcer_v,
        "threshold": threshold,
        "videos": len(names),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--features", type=Path, required=True)
    p.add_argument("--candidate", required=True)
    p.add_argument("--descriptors", type=Path, help="prior_features.py --descriptors output")
    p.add_argument("--seeds", type=int, nargs="+", default=[1])
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    data = load(args.corpus, args.features, args.descriptors)
    folds = folds_of(read_rows(args.corpus / "sources.csv"))
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        results = {
            name: run_fold(data, name, left_out, args.candidate, seed) for name, left_out in folds.items()
        }
        devel = devel_check(data, args.candidate, seed)
        (args.out / f"seed{seed}.json").write_text(json.dumps({"folds": results, "devel": devel}, indent=1))
        # no column for the bundled colour-texture model: it was fitted on every one of these sources
        table = summary_markdown(results).replace("| student", f"| {args.candidate}")
        (args.out / f"seed{seed}.md").write_text(table + f"\n\nReplay-Attack devel: {json.dumps(devel)}\n")
        log.info("seed %d\n%s\nRA devel %s", seed, table, devel)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
