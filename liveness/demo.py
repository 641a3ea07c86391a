"""Real-time demo: a webcam or a video file, boxes labelled real or spoof.

Shows an OpenCV window when a display exists (press `q` to quit), writes an
annotated video with `output`, and prints one JSON line per frame with
`json_out`. Talks only to the engine, and with `blink` to the eye landmarker:
each face's blinks are counted along its track, and `require_blink` labels a
face real only once it has blinked (a photo never does; a replayed video can).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import cv2
import numpy as np

from liveness.checker import Analysis, FrameChecker, LiveCheck
from liveness.decide.pose import HeadPose, head_pose
from liveness.decide.quality import frame_problem
from liveness.decide.tracking import FaceTracker, Track
from liveness.detect.follow import FaceFollower
from liveness.detect.landmarks import EyeLandmarker, EyeReading
from liveness.engine import LivenessEngine
from liveness.errors import InputError
from liveness.io.media import CameraReader, Frame, iter_video, video_rate
from liveness.types import Verdict

log = logging.getLogger(__name__)

GREEN, RED, ORANGE, WHITE = (60, 200, 60), (40, 40, 230), (0, 140, 255), (255, 255, 255)
NO_BLINK = "no blink"  # scored real, but its track has not blinked yet (with require_blink)
COLOURS = {"real": GREEN, NO_BLINK: ORANGE}
MANY_FACES = 50  # below this a run is too short to say anything about the threshold


@dataclass
class DemoOptions:
    source: str = "0"
    output: Path | None = None
    display: bool | None = None
    json_out: str | None = None
    max_frames: int | None = None
    smooth: int = 30
    blink: bool = False
    require_blink: bool = False
    challenge: bool = False  # random prompts on screen; the decision fuses them with the model's label

    @property
    def reads_eyes(self) -> bool:
        return self.blink or self.require_blink or self.challenge


@dataclass(frozen=True)
class FaceView:
    """What the demo shows and writes for one face of a frame."""

    verdict: Verdict
    score: float  # the track's smoothed real-probability, else the frame's
    label: str  # real, spoof or NO_BLINK
    track: int | None = None
    blinks: int | None = None
    openness: float | None = None
    blinked: bool = False  # a blink ended on this frame
    pose: HeadPose | None = None


class DemoChallenge:
    """A challenge on the demo's main face (the first of the frame), drawn anew after each outcome.

    It decides as the web page does (`liveness.checker.LiveCheck`): the quality gates, the decision
    window over about two seconds of judgeable frames (and a blink first with `require_blink`),
    fused with the challenge's outcome, all timed by the frames' own times."""

    def __init__(self, frames: FrameChecker, require_blink: bool = False) -> None:
        self.frames, self.require_blink = frames, require_blink
        self.now = 0.0
        self.check = self._new_check()
        self.decisions: list[dict[str, object]] = []

    def _new_check(self) -> LiveCheck:
        return self.frames.live_check(self.require_blink, challenge=True, clock=lambda: self.now)

    def update(self, when: float, image: np.ndarray, views: list[FaceView]) -> tuple[dict, dict | None]:
        """This frame's challenge status, and the fused decision when there is one."""
        self.now = when
        final = self.check.add(self.analysis(image, views))
        status = self.check.status()
        if final is None:
            return status, None
        self.decisions.append(final)
        log.info("challenge decision: %s (%s)", final["decision"], final["reason"])
        self.check = self._new_check()
        return status, final

    def analysis(self, image: np.ndarray, views: list[FaceView]) -> Analysis:
        """The frame as the page's check sees it: faces, what stops a judgement, the main face's
        score, eyes and pose."""
        faces = [view.verdict.face for view in views]
        problem = frame_problem(image, faces, self.frames.limits)
        main = views[0] if views else None
        eyes = EyeReading((main.openness, main.openness)) if main and main.openness is not None else None
        return Analysis(
            [view.verdict.to_dict() for view in views],
            problem,
            main.verdict.score if main is not None and problem is None else None,
            eyes,
            main.pose if main is not None else None,
        )


@dataclass
class DemoSummary:
    frames: int = 0
    frames_with_face: int = 0
    faces: int = 0
    faces_real: int = 0
    blinks: int = 0
    seconds: float = 0.0
    decisions: list[dict[str, object]] = field(default_factory=list)  # challenge outcomes, fused

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    @property
    def real_share(self) -> float | None:
        return self.faces_real / self.faces if self.faces else None

    def looks_uncalibrated(self) -> bool:
        """Nearly every face of a long run judged an attack: on a live camera, the usual sign that
        the model's threshold was fixed on another camera (README, "Calibrate to your camera")."""
        return self.faces >= MANY_FACES and self.faces_real <= 0.05 * self.faces


def display_available() -> bool:
    """False on a Linux machine with no X11 or Wayland display (a server, CI)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_demo(engine: LivenessEngine, options: DemoOptions) -> DemoSummary:
    """Score every frame of the source until it ends, `q` is pressed or `max_frames` is reached."""
    display = display_available() if options.display is None else options.display
    if not display:
        log.info("no display: running headless")
    frames, fps_hint, close = _open_source(options.source)
    live = options.source.isdigit()  # a camera's frames are timed by the clock, a file's by its rate
    writer: cv2.VideoWriter | None = None
    sink = _json_sink(options.json_out)
    summary = DemoSummary()
    meter = FpsMeter()
    eyes = EyeLandmarker() if options.reads_eyes else None
    judge = FaceJudge(engine.threshold, options.smooth, eyes, options.require_blink, poses=options.challenge)
    challenge = DemoChallenge(FrameChecker(engine), options.require_blink) if options.challenge else None
    follower = FaceFollower(engine.detector)  # one stream: detect again only on doubt
    started = time.perf_counter()
    try:
        for frame in frames:
            if options.max_frames is not None and summary.frames >= options.max_frames:
                break
            verdicts = engine.analyse(frame.image, follower)
            when = time.perf_counter() if live else frame.index / fps_hint
            views = judge.views(frame.image, verdicts, when)
            rate = meter.tick()
            summary.frames += 1
            summary.frames_with_face += bool(verdicts)
            summary.faces += len(verdicts)
            summary.faces_real += sum(v.label == "real" for v in verdicts)
            summary.blinks += sum(view.blinked for view in views)
            status, decided = challenge.update(when, frame.image, views) if challenge else (None, None)
            if decided is not None:
                summary.decisions.append(decided)
            if sink:
                _write_json(sink, frame, views, engine.threshold, status, decided)
            if options.output or display:
                annotated = annotate(frame.image, views, rate, status)
                if options.output:
                    writer = writer or _open_writer(options.output, annotated, fps_hint)
                    writer.write(annotated)
                if display and not _show(annotated):
                    break
    finally:
        summary.seconds = time.perf_counter() - started
        close()
        if writer is not None:
            writer.release()
        if sink not in (None, sys.stdout):
            sink.close()
        if display:
            cv2.destroyAllWindows()
    return summary


def _open_source(source: str) -> tuple[Iterator[Frame], float, Callable[[], None]]:
    """Frames, their nominal rate, and a function that releases the source."""
    if source.isdigit():
        reader = CameraReader(int(source))
        return reader.frames(), 30.0, reader.close
    return iter_video(source), video_rate(source), lambda: None


def _json_sink(target: str | None) -> IO[str] | None:
    if target is None:
        return None
    if target == "-":
        return sys.stdout
    return open(target, "w", encoding="utf-8")


class FaceJudge:
    """Labels the faces of each frame: by their score smoothed along their track when `smooth`
    is over 1, and with `eyes`, real only after a blink when `require_blink`."""

    def __init__(
        self,
        threshold: float,
        smooth: int,
        eyes: EyeLandmarker | None = None,
        require_blink: bool = False,
        poses: bool = False,
    ) -> None:
        self.threshold = threshold
        self.poses = poses
        tracked = smooth > 1 or eyes is not None  # blinks are counted along a track
        self.tracker = FaceTracker(window=max(1, smooth)) if tracked else None
        self.eyes = eyes
        self.require_blink = require_blink

    def views(self, image: np.ndarray, verdicts: list[Verdict], when: float) -> list[FaceView]:
        """Each face's view; `when` is the frame's time in seconds."""
        if self.tracker is None:
            return [FaceView(v, v.score, self._label(v.score)) for v in verdicts]
        smoothed = self.tracker.update(verdicts)
        return [
            self._view(image, verdict, track, score, when)
            for verdict, track, (_, score) in zip(verdicts, self.tracker.tracks, smoothed, strict=True)
        ]

    def _label(self, score: float) -> str:
        return "real" if score >= self.threshold else "spoof"

    def _view(self, image: np.ndarray, verdict: Verdict, track: Track, score: float, when: float) -> FaceView:
        label = self._label(score)
        if self.eyes is None:
            return FaceView(verdict, score, label, track.id)
        reading, mesh = self.eyes.read_with_mesh(image, verdict.face)
        blinked = track.blinks.update(when, reading)
        if label == "real" and self.require_blink and not track.blinks.count:
            label = NO_BLINK
        openness = reading.openness if reading else None
        pose = head_pose(mesh, image.shape[1], image.shape[0]) if self.poses and mesh is not None else None
        return FaceView(verdict, score, label, track.id, track.blinks.count, openness, blinked, pose)


def _write_json(
    sink: IO[str],
    frame: Frame,
    views: list[FaceView],
    threshold: float,
    challenge: dict[str, object] | None = None,
    decided: dict[str, object] | None = None,
) -> None:
    faces = []
    for view in views:
        face = view.verdict.to_dict()
        if view.track is not None:
            face.update(track=view.track, video_score=round(view.score, 6), decision=view.label)
        if view.blinks is not None:
            openness = None if view.openness is None else round(view.openness, 4)
            face.update(blinks=view.blinks, eye_openness=openness)
        if view.pose is not None:
            face["pose"] = view.pose.to_dict()
        faces.append(face)
    record: dict[str, object] = {"frame": frame.index, "threshold": round(threshold, 4), "faces": faces}
    if challenge is not None:
        record["challenge"] = challenge
    if decided is not None:
        record["decision"] = decided
    sink.write(json.dumps(record) + "\n")
    sink.flush()


def _open_writer(path: Path, frame: np.ndarray, fps: float) -> cv2.VideoWriter:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frame.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise InputError(f"cannot write video {path} (try a .mp4 or .avi name)")
    return writer


def _show(image: np.ndarray) -> bool:
    """Show a frame; False when the user pressed q or Esc."""
    cv2.imshow("liveness (q to quit)", image)
    return (cv2.waitKey(1) & 0xFF) not in (ord("q"), 27)


def annotate(
    image: np.ndarray, views: list[FaceView], fps: float | None = None, challenge: dict | None = None
) -> np.ndarray:
    """A copy of the frame with each face's box, label and real-probability drawn.

    A tracked face is labelled by its smoothed score, with the frame's own
    score beside it, and its blink count when eyes are read.
    """
    out = image.copy()
    scale = max(0.5, min(out.shape[:2]) / 700.0)
    thick = max(1, round(2 * scale))
    for view in views:
        f = view.verdict.face
        text = f"{view.label} {view.score:.2f}"
        if view.track is not None:
            text += f" (frame {view.verdict.score:.2f})"
        if view.blinks is not None:
            text += f" blinks {view.blinks}"
        color = COLOURS.get(view.label, RED)
        cv2.rectangle(out, (f.x, f.y), (f.x + f.w, f.y + f.h), color, thick)
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        top = max(0, f.y - th - 8)
        cv2.rectangle(out, (f.x, top), (f.x + tw + 6, top + th + 8), color, -1)
        cv2.putText(out, text, (f.x + 3, top + th + 3), cv2.FONT_HERSHEY_SIMPLEX, scale, WHITE, thick)
    if fps is not None:
        cv2.putText(
            out, f"{fps:.1f} FPS", (10, int(30 * scale)), cv2.FONT_HERSHEY_SIMPLEX, scale, WHITE, thick
        )
    if challenge and challenge.get("prompt"):
        text = f"{str(challenge['text']).upper()} ({challenge['seconds_left']} s)"
        cv2.putText(out, text, (10, out.shape[0] - int(20 * scale)), cv2.FONT_HERSHEY_SIMPLEX,
                    scale * 1.2, ORANGE, thick + 1)  # fmt: skip
    return out


class FpsMeter:
    """Frames per second, smoothed so the number on screen is readable."""

    def __init__(self, smoothing: float = 0.9) -> None:
        self.smoothing = smoothing
        self.rate: float | None = None
        self._last = time.perf_counter()

    def tick(self) -> float:
        now = time.perf_counter()
        instant = 1.0 / max(now - self._last, 1e-6)
        self._last = now
        self.rate = (
            instant if self.rate is None else self.smoothing * self.rate + (1 - self.smoothing) * instant
        )
        return self.rate
