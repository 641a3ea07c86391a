"""Head pose on synthetic heads and real clips, and the challenge on real head turns."""

from __future__ import annotations

import json
import time

import httpx
import numpy as np
import pytest
import websockets.sync.client

from liveness.decide.challenge import TURN_LEFT, TURN_RIGHT, WRONG_MOVE, Challenge
from liveness.decide.pose import head_pose, project_head
from liveness.types import Face
from tests.conftest import VIDEOS

TURNING = "tranvanluyt2203/real.mp4"  # turns to the person's left (frames ~50-100), right (~220-290)


@pytest.mark.parametrize(("yaw", "pitch"), [(0, 0), (25, 0), (-35, 0), (0, 15), (0, -20), (-20, 10)])
def test_a_synthetic_head_turned_by_known_angles_is_recovered(yaw, pitch):
    pose = head_pose(project_head(yaw, pitch), 640, 480)
    assert pose.yaw == pytest.approx(yaw, abs=2.0) and pose.pitch == pytest.approx(pitch, abs=2.0)


@pytest.fixture(scope="module")
def turning_clip(shared):
    """(time, Analysis) of every 2nd frame of the clip where a person turns, as the server's checker
    sees them (res10 faces, face mesh, pose)."""
    from liveness.checker import FrameChecker
    from liveness.detect.landmarks import EyeLandmarker
    from liveness.engine import LivenessEngine
    from liveness.io.media import iter_video, video_rate

    checker = FrameChecker(LivenessEngine.load(), eyes=EyeLandmarker(), poses=True)
    fps = video_rate(VIDEOS / TURNING)
    return [(f.index, f.index / fps, checker.analyse(f.image)) for f in iter_video(VIDEOS / TURNING, skip=2)]


def test_the_sign_and_scale_of_yaw_agree_with_where_the_nose_is(turning_clip):
    """A model-free cue: the nose tip's offset from the eyes' midpoint over the eye distance is
    positive when the head turns to the person's left in an unmirrored image. Yaw follows it."""
    from liveness.detect.landmarks import EyeLandmarker
    from liveness.io.media import iter_video

    eyes = EyeLandmarker()
    yaws, offsets = [], []
    frames = {f.index: f.image for f in iter_video(VIDEOS / TURNING, skip=10)}
    for index, _, analysis in turning_clip:
        if index not in frames or analysis.pose is None:
            continue
        x, y, w, h = analysis.faces[0]["box"]
        points = eyes.mesh_points(frames[index], Face(x, y, w, h, 1.0))
        middle, spread = (points[33] + points[263]) / 2, np.linalg.norm(points[263] - points[33])
        yaws.append(analysis.pose.yaw)
        offsets.append((points[1][0] - middle[0]) / spread)
    assert len(yaws) > 40 and np.corrcoef(yaws, offsets)[0, 1] > 0.9
    assert max(yaws) > 30 and min(yaws) < -15  # both turns are seen, at tens of degrees


def _challenge(clip, first: int, last: int, prompts) -> Challenge:
    challenge = Challenge(tuple(prompts))
    start = next(t for index, t, _ in clip if index >= first)
    for index, t, analysis in clip:
        if first <= index <= last and challenge.update(t - start, analysis.observation()):
            break
    return challenge


def test_a_real_turn_passes_the_challenge_that_asks_for_it_and_fails_the_opposite(turning_clip):
    left, right = (30, 130), (200, 300)  # found by measuring the pose over the clip (yaw 5 -> 40, 9 -> -22)
    assert _challenge(turning_clip, *left, [TURN_LEFT]).outcome == "passed"
    assert _challenge(turning_clip, *right, [TURN_RIGHT]).outcome == "passed"
    wrong = _challenge(turning_clip, *left, [TURN_RIGHT])
    assert (wrong.outcome, wrong.failure) == ("failed", WRONG_MOVE)
    assert _challenge(turning_clip, *right, [TURN_LEFT]).failure == WRONG_MOVE


@pytest.mark.shared
def test_a_still_photo_streamed_for_25_seconds_never_gets_live(shared):
    """With --challenge, a live person's photo (which the model alone calls live) is streamed at 10
    frames a second: every check ends in a challenge failure, none in 'live'."""
    from tests.web_server import running_server

    folder = sorted((shared / "data" / "replay-attack" / "devel").glob("devel__real*"))[0]
    photo = (folder / "frame_00000.jpg").read_bytes()
    with running_server("--rate-limit", "0", "--challenge") as base:
        passive = httpx.post(base + "/api/v1/check", files={"file": ("p.jpg", photo)}).json()
        assert passive["decision"] == "live"  # the network alone is fooled by this still frame
        decisions, prompts = [], set()
        with websockets.sync.client.connect(base.replace("http", "ws") + "/api/v1/stream") as socket:
            stop = time.monotonic() + 25
            while time.monotonic() < stop:
                socket.send(photo)
                answer = json.loads(socket.recv())
                assert answer["type"] == "frame", answer
                prompts.add(answer["challenge"]["prompt"])
                if answer["challenge"]["prompt"]:
                    assert answer["challenge"]["text"] and answer["challenge"]["seconds_left"] is not None
                if answer["challenge"]["outcome"] is not None:
                    decisions.append(json.loads(socket.recv()))
                time.sleep(0.1)
    assert len(decisions) >= 4 and all(d["type"] == "decision" for d in decisions)
    assert all(d["decision"] != "live" for d in decisions)
    assert all(d["reason"].startswith("challenge failed") for d in decisions)
    assert prompts - {None} <= {"turn_left", "turn_right", "look_up", "blink"} and len(prompts - {None}) >= 2


def test_the_demo_runs_the_challenge_on_a_clip(shared, tmp_path):
    from tests.conftest import run_cli

    lines = tmp_path / "frames.jsonl"
    done = run_cli("demo", "--input", str(VIDEOS / TURNING), "--no-display", "--challenge",
                   "--max-frames", "200", "--json", str(lines))  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert len(records) == 200 and all("challenge" in r for r in records)
    assert sum("pose" in f for r in records for f in r["faces"]) > 150
    decided = [r["decision"] for r in records if "decision" in r]
    assert decided
    for d in decided:  # live only with a passed challenge; a failed one says so
        outcome = d["challenge"]["outcome"]
        if outcome == "failed":
            assert d["decision"] in ("attack", "uncertain") and d["reason"].startswith("challenge failed")
        elif outcome is None:  # the window ruled before the prompts ended: never live then
            assert d["decision"] in ("attack", "uncertain")
        else:
            assert outcome == "passed" and (d["decision"] != "live" or "challenge:" in d["reason"])
    assert "challenge decision" in done.stderr
