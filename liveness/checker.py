"""Frames in, one decision out: the object the front ends (web page, API, demo, `check`) ask.

Frames that cannot be judged (no face, several, too small, too dark or bright)
become reasons; about two seconds of judgeable frames give a decision by how
well their scores agree; optionally the face must blink first, and with a
challenge its prompts must be followed (`LiveCheck`). The window of
`liveness.decide.window` does the deciding, timed by the frames' own times, so
a file and a live stream are judged alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from liveness.decide.blink import BlinkCounter
from liveness.decide.challenge import Challenge, Observation
from liveness.decide.fusion import fuse
from liveness.decide.pose import HeadPose, head_pose
from liveness.decide.quality import QualityLimits, frame_problem
from liveness.decide.window import Window, WindowConfig, image_decision
from liveness.detect.follow import FaceFollower
from liveness.detect.landmarks import EyeLandmarker, EyeReading
from liveness.engine import LivenessEngine
from liveness.io.media import iter_video, video_rate

CHECK_FPS = 15.0  # clips are read at about this rate: enough for blinks, half the work of 30 fps


@dataclass(frozen=True)
class Analysis:
    """One frame as a check sees it: its faces, what stops a judgement, the face's score, eyes
    and head pose (the pose when the checker reads poses, for a challenge)."""

    faces: list[dict[str, Any]]
    problem: str | None
    score: float | None
    eyes: EyeReading | None = None
    pose: HeadPose | None = None

    def observation(self) -> Observation:
        """The frame as a challenge sees it: how many faces, the first one's box, pose and eyes."""
        box = tuple(self.faces[0]["box"]) if self.faces else None
        return Observation(len(self.faces), box, self.pose, self.eyes)  # type: ignore[arg-type]


class FrameChecker:
    """Engine + quality gates (+ eye reader): judges single frames. Not thread-safe."""

    def __init__(
        self,
        engine: LivenessEngine,
        limits: QualityLimits | None = None,
        eyes: EyeLandmarker | None = None,
        poses: bool = False,
    ) -> None:
        self.engine = engine
        self.limits = limits or QualityLimits()
        self.eyes = eyes
        self.poses = poses and eyes is not None

    @classmethod
    def build(
        cls, engine: LivenessEngine, min_face_px: int = 60, eyes: bool = False, poses: bool = False
    ) -> FrameChecker:
        """A checker with the default gates at `min_face_px`; the eye landmarker (MediaPipe's face
        mesh and iris) is loaded only when eyes or poses are read."""
        landmarker = EyeLandmarker() if eyes or poses else None
        return cls(engine, QualityLimits(min_face_px=min_face_px), landmarker, poses=poses)

    def live_check(
        self, require_blink: bool = False, seconds: float = 2.0, challenge: bool = False, clock=None
    ) -> LiveCheck:
        """A fresh check of a live stream: a new window and, with `challenge`, new random prompts."""
        window = self.window(require_blink, WindowConfig(seconds=seconds), clock)
        return LiveCheck(
            window,
            Challenge.random() if challenge else None,
            clock=clock or time.monotonic,
            follower=self.follower(),
        )

    def follower(self) -> FaceFollower:
        """A detector for one stream of frames (liveness.detect.follow): give it to `analyse`."""
        return FaceFollower(self.engine.detector)

    def analyse(self, image: np.ndarray, follower: FaceFollower | None = None) -> Analysis:
        """One frame judged: its faces (found by a stream's `follower` if given), gates, score,
        eyes and pose."""
        verdicts = self.engine.analyse(image, follower)
        problem = frame_problem(image, [v.face for v in verdicts], self.limits)
        score = verdicts[0].score if problem is None else None
        eyes = pose = None
        if self.eyes and problem is None:
            eyes, mesh = self.eyes.read_with_mesh(image, verdicts[0].face)
            if self.poses and mesh is not None:
                pose = head_pose(mesh, image.shape[1], image.shape[0])
        return Analysis([v.to_dict() for v in verdicts], problem, score, eyes, pose)

    def check_image(self, image: np.ndarray) -> dict[str, Any]:
        """The decision for one photo: the reason it cannot be judged, else its score at the threshold."""
        frame = self.analyse(image)
        decision, reason = image_decision(frame.problem, frame.score, self.engine.threshold)
        return {"decision": decision, "reason": reason, "score": frame.score, "faces": frame.faces}

    def window(self, require_blink: bool = False, config: WindowConfig | None = None, clock=None) -> Window:
        """A fresh decision window for this checker's threshold (counting blinks when it reads eyes,
        or always when a blink is required)."""
        options = {"clock": clock} if clock is not None else {}
        return Window(
            self.engine.threshold,
            config or WindowConfig(),
            blinks=BlinkCounter() if self.eyes or require_blink else None,
            require_blink=require_blink,
            **options,
        )


@dataclass
class LiveCheck:
    """One check of a live stream (the web page's, the demo's): the passive window, the optional
    challenge, and their fused decision (liveness.decide.fusion). `clock` times the challenge; a file's
    frames are timed by their own times, a camera's by the wall clock."""

    window: Window
    challenge: Challenge | None = None
    clock: Callable[[], float] = time.monotonic
    passive: dict[str, Any] | None = None
    started: float | None = field(default=None)
    follower: FaceFollower | None = None  # the stream's faces, detected again only on doubt

    def add(self, frame: Analysis) -> dict[str, Any] | None:
        """One frame in; the fused decision once there is one."""
        now = self.clock()
        self.started = now if self.started is None else self.started
        if self.passive is None:
            self.passive = self.window.add(frame.problem, frame.score, frame.eyes)
        return fuse(self.passive, self.status(now, frame))

    def status(self, now: float | None = None, frame: Analysis | None = None) -> dict[str, Any] | None:
        """The challenge's status (updated with `frame` when given); None without a challenge."""
        if self.challenge is None:
            return None
        if frame is not None:
            self.challenge.update((now if now is not None else self.clock()) - (self.started or 0.0),
                                  frame.observation())  # fmt: skip
        return self.challenge.status()


def check_clip(
    path: str | Path,
    checker: FrameChecker,
    require_blink: bool = False,
    config: WindowConfig | None = None,
    lock: AbstractContextManager | None = None,
) -> dict[str, Any]:
    """The decision for a video file, read at about CHECK_FPS until the window decides or the
    clip ends; a clip that ends first is judged on what it showed. `lock` is held around each
    frame's analysis only (a server shares one checker between requests)."""
    fps = video_rate(path)
    now = [0.0]
    window = checker.window(require_blink, config, clock=lambda: now[0])
    follower = checker.follower()
    frames = 0
    for frame in iter_video(path, skip=max(1, round(fps / CHECK_FPS))):
        now[0] = frame.index / fps
        frames += 1
        with lock or nullcontext():
            analysis = checker.analyse(frame.image, follower)
        decided = window.add(analysis.problem, analysis.score, analysis.eyes)
        if decided is not None:
            return {**decided, "frames_read": frames, "seconds": round(now[0], 3)}
    return {**window.finish(), "frames_read": frames, "seconds": round(now[0], 3)}
