"""End to end in real headless Chromium: fake camera fed by a shared video -> page -> server -> decision.

Needs Debian's chromium (`.ci/run` installs it) and ffmpeg; Playwright drives it
through `executable_path`, never a downloaded browser.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import FAKE_VIDEO, REAL_VIDEO, REPO
from tests.media import ffmpeg
from tests.web_server import running_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"


def _need_chromium() -> None:
    if not Path(CHROMIUM).is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed")


def _camera_file(video: Path, out: Path, *trim: str) -> Path:
    """A 640x480 .y4m for Chromium's fake camera, made from a shared video (`trim`: ffmpeg's
    -ss/-t options, say)."""
    ffmpeg(
        *trim,
        "-i",
        str(video),
        "-vf",
        "scale=640:480:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=640:480:(ow-iw)/2:(oh-ih)/2",
        "-r",
        "15",
        "-pix_fmt",
        "yuv420p",
        str(out),
    )
    return out


def _launch(playwright, *extra: str):
    """Debian's Chromium, headless, with the fake camera device and no background network traffic."""
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-sync",
        "--disable-background-networking",
        "--disable-component-update",
        "--use-fake-device-for-media-stream",
        *extra,
    ]
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


def _check_in_browser(base: str, camera: Path, shot: Path, watch: str = "") -> tuple[str, str, int, str]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _launch(p, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={camera}")
        try:
            page = browser.new_page(viewport={"width": 420, "height": 860})  # a phone-sized window
            page.goto(base + "/")
            if watch:  # a status line that must show up before the decision
                page.wait_for_function(f"document.getElementById('status').textContent.includes({watch!r})")
            page.wait_for_selector("body[data-decision]", timeout=45_000)
            boxes = int(page.evaluate("document.body.dataset.boxes || '0'"))
            blinks = page.evaluate("document.body.dataset.blinks ?? 'none'")
            decision = page.evaluate("document.body.dataset.decision")
            text = page.inner_text("#result")
            assert page.is_visible("#again")
            shot.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    return decision, text, boxes, blinks


def test_real_face_and_replay_reach_different_decisions(shared, tmp_path):
    _need_chromium()
    with running_server() as base:
        real = _check_in_browser(
            base, _camera_file(REAL_VIDEO, tmp_path / "real.y4m"), ARTIFACTS / "browser_real.png"
        )
        replay = _check_in_browser(
            base, _camera_file(FAKE_VIDEO, tmp_path / "replay.y4m"), ARTIFACTS / "browser_replay.png"
        )
    assert real[2] >= 5 and replay[2] >= 5  # boxes were drawn over the live video
    assert real[0] == "live", real
    assert replay[0] == "attack", replay
    assert (ARTIFACTS / "browser_real.png").stat().st_size > 10_000


def test_page_reports_blinks_when_the_server_counts_them(shared, tmp_path):
    _need_chromium()
    with running_server("--blink", "count") as base:
        decision, text, boxes, blinks = _check_in_browser(
            base, _camera_file(REAL_VIDEO, tmp_path / "real.y4m"), ARTIFACTS / "browser_blink.png"
        )
    assert decision == "live" and boxes >= 5
    assert blinks.isdigit() and f"blinks seen: {blinks}" in text  # the lestari15 clip: no blink seen


def test_page_asks_for_a_blink_and_decides_live_after_one(shared, tmp_path):
    """7.4 s of the selfie clip from frame 400 (blinks at about 3.1 and 4.4 s, tests/test_blink.py),
    looped by the fake camera; the threshold near 0 leaves the decision to the blink."""
    _need_chromium()
    selfie = REAL_VIDEO.parents[1] / "tranvanluyt2203" / "real.mp4"
    camera = _camera_file(selfie, tmp_path / "selfie.y4m", "-ss", "13.33", "-t", "7.4")
    with running_server("--blink", "require", "--threshold", "0.001") as base:
        decision, text, _, blinks = _check_in_browser(
            base, camera, ARTIFACTS / "browser_require_blink.png", watch="Blink once, please"
        )
    assert decision == "live", text
    assert int(blinks) >= 1 and "blinks seen" in text


def test_denied_camera_gives_an_uncertain_decision_with_the_reason(shared):
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with running_server() as base, sync_playwright() as p:
        browser = _launch(p, "--deny-permission-prompts")
        try:
            page = browser.new_page()
            page.goto(base + "/")
            page.wait_for_selector("body[data-decision]", timeout=20_000)
            assert page.evaluate("document.body.dataset.decision") == "uncertain"
            assert "camera access was denied" in page.inner_text("#result")
        finally:
            browser.close()


def test_with_a_challenge_a_still_photo_and_a_replay_never_reach_live(shared, tmp_path):
    """`liveness serve --challenge`: the page shows each prompt (arrow and words, screenshot), and a
    live person's still photo (which the model alone accepts) or a replay clip fails the challenge."""
    _need_chromium()
    from playwright.sync_api import sync_playwright

    folder = sorted((shared / "data" / "replay-attack" / "devel").glob("devel__real*"))[0]
    photo = _camera_file(folder / "frame_00000.jpg", tmp_path / "photo.y4m", "-loop", "1", "-t", "4")
    replay = _camera_file(FAKE_VIDEO, tmp_path / "replay.y4m")
    outcomes = {}
    with running_server("--challenge") as base, sync_playwright() as p:
        for name, camera in (("photo", photo), ("replay", replay)):
            browser = _launch(
                p, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={camera}"
            )
            try:
                page = browser.new_page(viewport={"width": 420, "height": 860})
                page.goto(base + "/")
                page.wait_for_selector("#prompt:not([hidden])", timeout=30_000)
                shown = page.inner_text("#prompt")
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"browser_challenge_{name}.png"))
                page.wait_for_selector("body[data-decision]", timeout=45_000)
                outcomes[name] = (
                    page.evaluate("document.body.dataset.decision"),
                    page.inner_text("#result"),
                    shown,
                )
            finally:
                browser.close()
    assert "challenge failed" in outcomes["photo"][1]  # the model alone would have said live
    for decision, text, shown in outcomes.values():
        assert decision != "live", text
        assert any(word in shown for word in ("Turn your head", "Look up", "Blink")) and " s)" in shown
