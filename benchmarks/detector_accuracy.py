#!/usr/bin/env python3
"""Do the faster face detectors give the model the faces res10 gives it?

Each detector runs on the same images as res10 at 300x300, the baseline whose boxes
every bundled model was trained and calibrated on, in the same run:

- faces found: the share of images with a face, and of images where it and res10
  disagree on whether there is one;
- box agreement: the IoU of its most confident face with res10's (median, 5th
  percentile, share >= 0.5) where both found one;
- the default model's AUC on its boxes beside its AUC on res10's, on Replay-Attack
  devel and NUAA (frame level, most confident face); on the shared videos, each
  clip's mean score and whether every source's real clip outranks its replay;
- with --corpus (recipes/build_corpus.py's folder), the same on every corpus face
  whose box res10 gave, per left-out group of the cross-source yardstick;
- detect time per image (median), for scale; benchmarks/speed.py times the pipeline.

    python benchmarks/detector_accuracy.py --json detector_accuracy.json
    python benchmarks/detector_accuracy.py --detectors res10-fast blazeface --corpus /work/corpus
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from liveness.data.manifest import read_rows
from liveness.decide.tracking import iou
from liveness.detect import DEFAULT_DETECTOR, FaceDetector, create_detector
from liveness.engine import LivenessEngine
from liveness.evaluate.metrics import auc
from liveness.io.media import iter_video, read_image
from liveness.types import Face

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LIVENESS_SHARED_DIR", REPO.parent / "shared"))
BASELINE = "res10"
log = logging.getLogger("detector_accuracy")


def built(name: str) -> FaceDetector:
    """A detector by name; `res10-fast:128` sets the first pass's long side."""
    base, _, side = name.partition(":")
    return create_detector(base, first_side=int(side)) if side else create_detector(base)


def shared_images(every: int) -> dict[str, list[tuple[Path, bool]]]:
    """(path, is_real) of every `every`-th image of Replay-Attack devel and of NUAA."""
    sets = {}
    for name, folder, split in (("replay-attack devel", "replay-attack", "devel"), ("nuaa", "nuaa", None)):
        rows = read_rows(SHARED / "data" / folder / "index.csv")
        rows = [r for r in rows if split in (None, r.get("split"))]
        sets[name] = [(SHARED / "data" / folder / r["path"], r["label"] == "real") for r in rows[::every]]
    return sets


def corpus_images(corpus: Path) -> dict[str, list[tuple[Path, bool, Face]]]:
    """Corpus faces whose box res10 found, by yardstick group (sources.csv), with that box."""
    group_of = {r["source"]: r.get("group") or r["source"] for r in read_rows(corpus / "sources.csv")}
    sets: dict[str, list] = defaultdict(list)
    for r in read_rows(corpus / "manifest.csv"):
        if r.get("box_from") == "detector":
            box = Face(*(int(r[k]) for k in "xywh"), confidence=float(r["confidence"]))
            sets[f"corpus: {group_of.get(r['source_name'], r['source_name'])}"].append(
                (Path(r["path"]), r["label"] == "real", box)
            )
    return dict(sets)


def detect_all(detector: FaceDetector, images: list[np.ndarray]) -> tuple[list[list[Face]], float]:
    """Faces of every image and the median and mean detect times in ms (the mean counts the
    images where a fast path had to fall back)."""
    found, times = [], []
    for image in images:
        start = time.perf_counter()
        found.append(detector.detect(image))
        times.append(time.perf_counter() - start)
    return found, {"ms": 1000 * float(np.median(times)), "ms_mean": 1000 * float(np.mean(times))}


def agreement(base: list[list[Face]], other: list[list[Face]]) -> dict[str, float]:
    """Found shares, disagreements and IoU of the top faces."""
    pairs = list(zip(base, other, strict=True))
    both = [iou(b[0], o[0]) for b, o in pairs if b and o]
    return {
        "images": len(base),
        "found": float(np.mean([bool(o) for o in other])),
        "found_by_res10": float(np.mean([bool(b) for b in base])),
        "disagree_on_presence": float(np.mean([bool(b) != bool(o) for b, o in pairs])),
        "iou_median": float(np.median(both)) if both else float("nan"),
        "iou_p5": float(np.percentile(both, 5)) if both else float("nan"),
        "iou_at_least_0.5": float(np.mean(np.array(both) >= 0.5)) if both else float("nan"),
    }


def model_auc(engine: LivenessEngine, images, labels, faces: list[list[Face]]) -> dict[str, float]:
    """The model's frame AUC on the most confident face of the images that have one."""
    scores, real = [], []
    for image, is_real, found in zip(images, labels, faces, strict=True):
        if found:
            scores.append(engine.score_faces(image, found[:1])[0].score)
            real.append(is_real)
    return {"auc": auc(np.array(real), np.array(scores)) if len(set(real)) == 2 else float("nan")}


def judge_set(name, items, detectors, engine, base_faces=None) -> dict:
    """Every detector on one set of images, beside res10's faces (detected, or given)."""
    images = [read_image(item[0]) for item in tqdm(items, desc=f"reading {name}", unit="img", leave=False)]
    labels = [item[1] for item in items]
    if base_faces is None:
        base_faces, base_ms = detect_all(detectors[BASELINE], images)
    else:
        base_ms = {"ms": float("nan"), "ms_mean": float("nan")}
    result = {BASELINE: {**base_ms, **model_auc(engine, images, labels, base_faces)}}
    for det_name, detector in detectors.items():
        if det_name == BASELINE:
            continue
        bar = tqdm(images, desc=f"{det_name} on {name}", unit="img", leave=False)
        faces, ms = detect_all(detector, bar)
        judged = model_auc(engine, images, labels, faces)
        result[det_name] = {**ms, **agreement(base_faces, faces), **judged}
    log.info("%s: %s", name, json.dumps(result))
    return result


def judge_videos(detectors, engine, every: int = 5) -> dict:
    """Mean score of each shared clip per detector, and whether real outranks replay per source."""
    labels = {r["path"]: r["label"] for r in read_rows(SHARED / "data" / "videos" / "labels.csv")}
    result: dict[str, dict] = {}
    for det_name, detector in detectors.items():
        means, found = {}, []
        for rel in labels:
            scores = []
            for frame in iter_video(SHARED / "data" / "videos" / rel, skip=every):
                faces = detector.detect(frame.image)
                found.append(bool(faces))
                if faces:
                    scores.append(engine.score_faces(frame.image, faces[:1])[0].score)
            means[rel] = float(np.mean(scores)) if scores else None
        pairs = defaultdict(dict)
        for rel, mean in means.items():
            pairs[rel.split("/")[0]][labels[rel]] = mean
        both = [p for p in pairs.values() if None not in (p.get("real"), p.get("spoof"))]
        ordered = [p["real"] > p["spoof"] for p in both]
        result[det_name] = {"found": float(np.mean(found)), "means": means, "real_above_replay": ordered}
    return result


def table(report: dict) -> str:
    lines = [
        "| set | detector | faces found | IoU with res10 (median / p5) | default model AUC | "
        "ms an image (median / mean) |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in report["sets"].items():
        for det, r in result.items():
            iou_text, found = "baseline", ""
            if det != BASELINE:
                iou_text = f"{r['iou_median']:.3f} / {r['iou_p5']:.3f}"
                found = f"{100 * r['found']:.1f} % (res10 {100 * r['found_by_res10']:.1f} %)"
            times = f"{r['ms']:.1f} / {r['ms_mean']:.1f}"
            lines.append(f"| {name} | {det} | {found} | {iou_text} | {r['auc']:.3f} | {times} |")
    for det, r in report["videos"].items():
        lines.append(
            f"| shared videos | {det} | {100 * r['found']:.1f} % | | real above replay: "
            f"{sum(r['real_above_replay'])}/{len(r['real_above_replay'])} | |"
        )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--detectors", nargs="+", default=[DEFAULT_DETECTOR], help="detectors judged against res10"
    )
    p.add_argument("--every", type=int, default=2, help="every n-th image of Replay-Attack devel and NUAA")
    p.add_argument("--corpus", type=Path, help="also judge the corpus faces (recipes/build_corpus.py)")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not (SHARED / "data").is_dir():
        print(f"needs the shared data at {SHARED} (set LIVENESS_SHARED_DIR)", file=sys.stderr)
        return 2
    cv2.setNumThreads(min(2, os.cpu_count() or 1))
    detectors = {name: built(name) for name in dict.fromkeys([BASELINE, *args.detectors])}
    engine = LivenessEngine.load(detector=detectors[BASELINE])
    report = {"model": engine.card.name, "sets": {}, "videos": judge_videos(detectors, engine)}
    for name, items in shared_images(args.every).items():
        report["sets"][name] = judge_set(name, items, detectors, engine)
    if args.corpus:
        for name, items in corpus_images(args.corpus).items():
            base = [[item[2]] for item in items]
            report["sets"][name] = judge_set(name, items, detectors, engine, base_faces=base)
    print(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
