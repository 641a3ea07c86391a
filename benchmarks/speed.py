#!/usr/bin/env python3
"""Speed of the liveness pipeline, every number measured in this run on this machine.

Per-face latency (batch 1 and batch 8): the shipped model through the engine;
the tutorial's LivenessNet through `model.predict` (the baseline), the Keras
`tf.function` runtime and LiteRT; and the MiniFASNet reference pair.
Pipeline frames per second on a 640x480 single-face video for each
detector, time from process start to the demo's first result, and the
demo's peak resident memory. Medians of repeated runs, p95 beside them.

    python benchmarks/speed.py --json speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from liveness.detect import DEFAULT_DETECTOR, create_detector
from liveness.detect.follow import FaceFollower
from liveness.detect.landmarks import EyeLandmarker
from liveness.engine import LivenessEngine
from liveness.io.media import iter_video
from liveness.preprocess import face_crop, to_model_input

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LIVENESS_SHARED_DIR", REPO.parent / "shared"))
SOURCE_VIDEO = SHARED / "data" / "videos" / "lestari15" / "real.mp4"


def timed(call: Callable[[], object], repeats: int, warmup: int = 3) -> dict[str, float]:
    """Median and p95 of `repeats` calls, in milliseconds."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000.0)
    return {"median": float(np.median(samples)), "p95": float(np.percentile(samples, 95)), "n": repeats}


def make_video(path: Path, frames: int = 112) -> Path:
    """A 640x480 single-face clip: the shared webcam video, centre-cropped to 4:3 and resized."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (640, 480))
    for frame in list(iter_video(SOURCE_VIDEO))[:frames]:
        h, w = frame.image.shape[:2]
        side = int(h * 4 / 3)
        left = (w - side) // 2
        writer.write(cv2.resize(frame.image[:, left : left + side], (640, 480), interpolation=cv2.INTER_AREA))
    writer.release()
    return path


def tutorial_predict(model, frame: np.ndarray, boxes: list) -> Callable[[], object]:
    """The tutorial's loop: resize each face, scale, and call `model.predict` on it."""

    def run() -> None:
        for box in boxes:
            face = cv2.resize(face_crop(frame, box, 1.0), (32, 32))
            face = cv2.cvtColor(face, cv2.COLOR_BGR2RGB).astype("float32")
            model.predict(face[None], verbose=0)

    return run


def tutorial_network(folder: Path) -> tuple[Path, Path]:
    """The tutorial's LivenessNet (32 px) as .keras and .tflite. Untrained: weights do not change
    how long a forward pass takes, so the three runtimes below time one and the same network."""
    from liveness.export import export_tflite
    from liveness.models import build_model

    model = build_model("livenessnet", input_size=32, n_classes=2)
    model.save(folder / "livenessnet.keras")
    return folder / "livenessnet.keras", export_tflite(model, folder / "livenessnet.tflite")


def per_face(
    frame: np.ndarray,
    n_faces: int,
    repeats: int,
    tutorial: tuple[Path, Path],
    candidates: Sequence[Path] = (),
) -> dict[str, dict[str, float]]:
    from liveness.engine.backends import KerasBackend, LiteRTBackend
    from liveness.export import load_keras_model

    detector = create_detector("res10")
    face = detector.detect(frame)[0]
    faces = [face] * n_faces
    engines = {"engine_litert": LivenessEngine.load(runtime="litert", detector=detector)}  # shipped model
    for model in candidates:
        engine = LivenessEngine.load(model, runtime="litert", detector=detector)
        engines[f"engine_litert_{engine.card.architecture}_{engine.card.input_size}px"] = engine
    results = {
        label: timed(lambda e=engine: e.score_faces(frame, faces), repeats)
        for label, engine in engines.items()
    }
    keras_file, tflite_file = tutorial
    for label, backend in (
        ("livenessnet_litert", LiteRTBackend(tflite_file, (32, 32, 3))),
        ("livenessnet_keras_tf_function", KerasBackend(keras_file, (32, 32, 3))),
    ):
        results[label] = timed(lambda b=backend: b.run(crops_32(frame, faces)), repeats)
    results["tutorial_model_predict"] = timed(
        tutorial_predict(load_keras_model(keras_file), frame, [f.box for f in faces]), max(10, repeats // 10)
    )
    reference = SHARED / "models" / "minifasnet"
    if reference.is_dir():
        from liveness.evaluate.scorers import MiniFASNetScorer

        mini = MiniFASNetScorer(reference)
        results["minifasnet_pair_onnxruntime"] = timed(lambda: mini.score(frame, faces), repeats)
    eyes = EyeLandmarker()  # what --blink adds per face: face mesh + two iris models
    results["blink_eye_landmarks_litert"] = timed(lambda: [eyes.read(frame, f) for f in faces], repeats)
    return {k: {s: v / n_faces if s != "n" else v for s, v in r.items()} for k, r in results.items()}


def crops_32(frame: np.ndarray, faces: Sequence) -> np.ndarray:
    """The faces as a 32 px model batch, the same work the engine does before its runtime."""
    return to_model_input([face_crop(frame, f.box, 1.0) for f in faces], 32, "RGB")


def pipeline_fps(
    video: Path, detector_type: str, repeats: int = 3, blink: bool = False, follow: bool = False
) -> dict[str, float]:
    """Read + detect + score (+ read the eyes) every frame of the clip; frames per second over
    whole passes. `follow`: the clip is one stream, its face followed between detections as the
    demo, clip checks and the web page's stream do (liveness.detect.follow)."""
    engine = LivenessEngine.load(detector_type=detector_type)
    eyes = EyeLandmarker() if blink else None

    def analyse(image: np.ndarray, follower: FaceFollower | None) -> bool:
        verdicts = engine.analyse(image, follower)
        for verdict in verdicts if eyes else ():
            eyes.read(image, verdict.face)
        return bool(verdicts)

    rates, frames, with_face, detected = [], 0, 0, 0
    for _ in range(repeats):
        follower = FaceFollower(engine.detector) if follow else None
        start = time.perf_counter()
        found = [analyse(frame.image, follower) for frame in iter_video(video)]
        rates.append(len(found) / (time.perf_counter() - start))
        frames, with_face = len(found), sum(found)
        detected = follower.detections if follower else frames
    return {
        "median": float(np.median(rates)),
        "min": float(np.min(rates)),
        "frames": frames,
        "frames_with_face": with_face,
        "frames_detected": detected,
    }


def _watch_peak_rss(pid: int, peak: list[float], done: threading.Event) -> None:
    """Poll VmHWM (this process image's own high-water mark; fork-inherited pages do not count)."""
    while not done.is_set():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
            peak[0] = max(peak[0], kb / 1024.0)
        except (OSError, StopIteration):
            pass
        done.wait(0.02)


def demo_process(video: Path, repeats: int = 3) -> tuple[float, float]:
    """(median seconds from process start to the first JSON result, peak RSS in MB of a full run)."""
    command = [
        sys.executable,
        "-m",
        "liveness",
        "-q",
        "demo",
        "--input",
        str(video),
        "--no-display",
        "--json",
    ]
    starts, peaks = [], []
    for _ in range(repeats):
        begin = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        peak, done = [0.0], threading.Event()
        watcher = threading.Thread(target=_watch_peak_rss, args=(proc.pid, peak, done))
        watcher.start()
        assert proc.stdout is not None
        first = proc.stdout.readline()
        starts.append(time.perf_counter() - begin)
        assert json.loads(first)["faces"], "the demo found no face in the first frame"
        proc.stdout.read()
        done.set()
        watcher.join()
        assert proc.wait() == 0
        peaks.append(peak[0])
    return float(np.median(starts)), float(max(peaks))


def table(report: dict) -> str:
    lines = [
        "| per-face liveness (ms) | batch 1 median | batch 1 p95 | batch 8 median | batch 8 p95 | "
        "speed-up vs predict (batch 1) |",
        "|---|---|---|---|---|---|",
    ]
    base = report["per_face_ms"]["tutorial_model_predict"]["median"]
    for method, stats in report["per_face_ms"].items():
        b8 = report["per_face_ms_batch8"].get(method, {})
        lines.append(
            f"| {method} | {stats['median']:.3f} | {stats['p95']:.3f} | {b8.get('median', 0):.3f} | "
            f"{b8.get('p95', 0):.3f} | {base / stats['median']:.1f}x |"
        )
    lines += [
        "",
        "| pipeline, 640x480 single face | FPS (median of 3 passes) | slowest pass | frames with a face | "
        "frames detected | vs res10 at 300x300 |",
        "|---|---|---|---|---|---|",
    ]
    res10 = report["pipeline_fps"]["res10"]
    for name, fps in report["pipeline_fps_detail"].items():
        default = " (the default)" if name.split(",")[0] == report["default_detector"] else ""
        lines.append(
            f"| detector {name}{default} | {fps['median']:.1f} | {fps['min']:.1f} | "
            f"{fps['frames_with_face']}/{fps['frames']} | {fps['frames_detected']} | "
            f"{fps['median'] / res10:.2f}x |"
        )
    lines += [
        "",
        f"demo start to first result: {report['startup_s']:.2f} s (median of 3); "
        f"peak RSS of a full demo run: {report['peak_rss_mb']:.0f} MB",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--repeats", type=int, default=300, help="timed calls per per-face method")
    parser.add_argument(
        "--candidate",
        type=Path,
        action="append",
        default=[],
        help="also time this model (.tflite/.keras/.card.json) per face; repeatable",
    )
    args = parser.parse_args()
    if not SOURCE_VIDEO.is_file():
        print(f"needs the shared videos at {SHARED} (set LIVENESS_SHARED_DIR)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        video = make_video(Path(tmp) / "single_face_640x480.mp4")
        frame = next(iter_video(video)).image
        tutorial = tutorial_network(Path(tmp))
        single = per_face(frame, 1, args.repeats, tutorial, args.candidate)
        batch8 = per_face(frame, 8, max(50, args.repeats // 4), tutorial, args.candidate)
        detectors = (DEFAULT_DETECTOR, "res10", "blazeface")
        fps = {f"{name}, one stream followed": pipeline_fps(video, name, follow=True) for name in detectors}
        fps.update({name: pipeline_fps(video, name) for name in detectors})
        fps.update({f"{name} + blink": pipeline_fps(video, name, blink=True) for name in detectors})
        startup, rss = demo_process(video)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        },
        "per_face_ms": single,
        "per_face_ms_batch8": batch8,
        "pipeline_fps": {k: v["median"] for k, v in fps.items()},
        "pipeline_fps_detail": fps,
        "startup_s": startup,
        "peak_rss_mb": rss,
        "speedup_vs_predict": single["tutorial_model_predict"]["median"] / single["engine_litert"]["median"],
        "default_detector": DEFAULT_DETECTOR,
        "default_vs_res10_fps": fps[DEFAULT_DETECTOR]["median"] / fps["res10"]["median"],
        "default_stream_vs_res10_fps": fps[f"{DEFAULT_DETECTOR}, one stream followed"]["median"]
        / fps["res10"]["median"],
    }
    print(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
