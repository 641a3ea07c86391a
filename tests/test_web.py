"""API tests against a real uvicorn server on localhost."""

import base64
import json
import subprocess
import sys
import time

import cv2
import httpx
import pytest

from tests.conftest import SHARED
from tests.web_server import running_server


@pytest.fixture(scope="module")
def server(shared):
    with running_server("--rate-limit", "0") as base:
        yield base


def _frame(shared_dir, kind: str) -> bytes:
    folder = sorted((shared_dir / "data" / "replay-attack" / "devel").glob(f"devel__{kind}*"))[0]
    return (folder / "frame_00000.jpg").read_bytes()


def test_check_multipart_and_json(server):
    real = _frame(SHARED, "real")
    response = httpx.post(server + "/api/v1/check", files={"file": ("face.jpg", real, "image/jpeg")})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"faces", "decision", "reason", "score", "model", "threshold"}
    assert len(body["faces"]) == 1
    face = body["faces"][0]
    assert body["score"] == pytest.approx(face["score"])  # the answer's score is its one face's
    assert set(face) == {"box", "score", "label", "detector_confidence"} and len(face["box"]) == 4
    assert body["decision"] == ("live" if face["score"] >= body["threshold"] else "attack")
    again = httpx.post(server + "/api/v1/check", json={"image": base64.b64encode(real).decode()})
    assert again.json()["faces"][0]["score"] == pytest.approx(face["score"])
    data_url = "data:image/jpeg;base64," + base64.b64encode(real).decode()
    assert httpx.post(server + "/api/v1/check", json={"image": data_url}).status_code == 200


def test_real_and_attack_frames_get_different_decisions(server):
    real = httpx.post(server + "/api/v1/check", files={"file": ("r.jpg", _frame(SHARED, "real"))}).json()
    attack = httpx.post(server + "/api/v1/check", files={"file": ("a.jpg", _frame(SHARED, "attack"))}).json()
    assert real["decision"] == "live" and attack["decision"] == "attack"


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"files": {"file": ("notes.txt", b"hello, not an image", "text/plain")}}, 415, "not_an_image"),
        ({"json": {"image": "!!!not base64"}}, 422, "bad_base64"),
        ({"json": {"picture": "x"}}, 422, "missing_image"),
        ({"content": b"raw bytes", "headers": {"content-type": "application/octet-stream"}}, 415, None),
        ({"files": {"other": ("a.jpg", b"x")}}, 422, "missing_file"),
    ],
)
def test_bad_requests_get_json_errors(server, payload, status, code):
    response = httpx.post(server + "/api/v1/check", **payload)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["message"] and (code is None or error["code"] == code)
    assert "Traceback" not in response.text


def test_limits(server):
    big = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "-F",
            "file=@-;filename=big.jpg",
            server + "/api/v1/check",
        ],
        input=b"\0" * (50 * 1024 * 1024),
        capture_output=True,
    )
    body, status = big.stdout.rsplit(b"\n", 1)
    assert status == b"413" and json.loads(body)["error"]["code"] == "too_large"
    _, huge = cv2.imencode(
        ".png",
        cv2.resize(
            cv2.imdecode(__import__("numpy").frombuffer(_frame(SHARED, "real"), "uint8"), 1), (5000, 100)
        ),
    )
    response = httpx.post(server + "/api/v1/check", files={"file": ("wide.png", huge.tobytes())})
    assert response.status_code == 422 and response.json()["error"]["code"] == "image_too_large"


def test_no_face_is_uncertain_with_a_reason(server):
    import numpy as np

    _, grey = cv2.imencode(".jpg", np.full((240, 320, 3), 128, np.uint8))
    body = httpx.post(server + "/api/v1/check", files={"file": ("grey.jpg", grey.tobytes())}).json()
    assert body["faces"] == [] and body["decision"] == "uncertain" and "no face" in body["reason"]


def test_health_docs_and_page(server):
    assert httpx.get(server + "/healthz").json()["status"] == "ok"
    spec = httpx.get(server + "/openapi.json").json()
    assert "/api/v1/check" in spec["paths"]
    assert httpx.get(server + "/docs").status_code == 200
    page = httpx.get(server + "/")
    assert "getUserMedia" in httpx.get(server + "/static/app.js").text and "<canvas" in page.text


def test_stream_gives_frame_results_then_one_decision(server):
    from websockets.sync.client import connect

    frame = _frame(SHARED, "real")
    messages = []
    with connect(server.replace("http", "ws") + "/api/v1/stream") as ws:
        for _ in range(100):  # a client sending ~15 frames a second; the window needs 2 s
            time.sleep(0.05)
            ws.send(frame)
            messages.append(json.loads(ws.recv()))
            if messages[-1]["progress"] >= 1.0:  # the decision follows that frame's result
                messages.append(json.loads(ws.recv()))
                break
        ws.send(json.dumps({"type": "reset"}))
        assert json.loads(ws.recv())["type"] == "reset"
    frames = [m for m in messages if m["type"] == "frame"]
    decisions = [m for m in messages if m["type"] == "decision"]
    assert all(len(m["faces"]) == 1 for m in frames)
    assert len(decisions) == 1 and decisions[0]["decision"] == "live" and decisions[0]["frames"] >= 5


def test_rate_limit_answers_429(shared):
    with running_server("--rate-limit", "30") as base:
        codes = [httpx.post(base + "/api/v1/check", json={"image": "AAAA"}).status_code for _ in range(8)]
    assert codes[:5] == [415] * 5 and codes[-1] == 429


def test_serve_binds_to_localhost_by_default_and_web_does_not_import_tensorflow():
    from liveness.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    code = (
        "import sys, liveness.web.app; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def _stream(base: str, frames: list[bytes], fps: float = 30.0) -> tuple[list[dict], list[dict]]:
    """Send the frames in order at the clip's rate (or as fast as results come back)."""
    from websockets.sync.client import connect

    results, decisions = [], []
    with connect(base.replace("http", "ws") + "/api/v1/stream") as ws:
        for frame in frames:
            due = time.monotonic() + 1.0 / fps
            ws.send(frame)
            results.append(json.loads(ws.recv()))
            if results[-1]["progress"] >= 1.0 and not results[-1].get("waiting_for_blink"):
                decisions.append(json.loads(ws.recv()))
                break
            time.sleep(max(0.0, due - time.monotonic()))
    return results, decisions


def test_stream_with_required_blink_waits_for_the_selfie_blink(shared):
    """The shared selfie clip blinks in frames 492-495, 3 s after frame 400 (tests/test_blink.py);
    the shipped model scores this camera low, so the threshold is set near 0 to let the blink
    decide."""
    from liveness.io.media import iter_video

    clip = SHARED / "data" / "videos" / "tranvanluyt2203" / "real.mp4"
    frames = [cv2.imencode(".jpg", f.image)[1].tobytes() for f in iter_video(clip) if 400 <= f.index <= 600]
    with running_server("--rate-limit", "0", "--blink", "require", "--threshold", "0.001") as base:
        assert httpx.get(base + "/healthz").json()["blink"] == "require"
        results, decisions = _stream(base, frames)
        still, still_decisions = _stream(base, [frames[0]] * 80)  # 2.7 s of one frame
    waited = [r for r in results if r["waiting_for_blink"]]
    assert waited and all(r["blinks"] == 0 for r in waited)  # two seconds in, no blink yet
    assert decisions[0]["decision"] == "live" and decisions[0]["blinks"] == 1
    assert 496 - 400 <= len(results) <= 501 - 400  # decided on the frame that ended the blink
    assert not still_decisions and still[-1]["waiting_for_blink"] and still[-1]["blinks"] == 0


def test_check_video_upload_decides_like_the_stream(server):
    from tests.conftest import FAKE_VIDEO, REAL_VIDEO

    real = httpx.post(
        server + "/api/v1/check-video", files={"file": ("clip.mp4", REAL_VIDEO.read_bytes(), "video/mp4")}
    )
    fake = httpx.post(
        server + "/api/v1/check-video",
        content=FAKE_VIDEO.read_bytes(),
        headers={"content-type": "video/mp4"},
        timeout=60,
    )
    assert real.status_code == 200 and real.json()["decision"] == "live", real.text
    assert fake.status_code == 200 and fake.json()["decision"] == "attack", fake.text
    assert real.json()["frames"] >= 5 and real.json()["model"]
    junk = httpx.post(
        server + "/api/v1/check-video", content=b"\x00" * 5000, headers={"content-type": "video/mp4"}
    )
    assert junk.status_code == 415 and junk.json()["error"]["code"] == "not_a_video"
    text = httpx.post(
        server + "/api/v1/check-video", content=b"hello", headers={"content-type": "text/plain"}
    )
    assert text.status_code == 415 and "video/*" in text.json()["error"]["message"]


def test_a_video_check_does_not_hold_up_image_checks(server):
    """The model is shared under a lock taken per frame, so an image sent while a clip is being
    judged is answered before the clip's decision."""
    import threading

    from tests.conftest import REAL_VIDEO

    video: list[int] = []

    def upload() -> None:
        data = REAL_VIDEO.read_bytes()
        response = httpx.post(
            server + "/api/v1/check-video", content=data, headers={"content-type": "video/mp4"}, timeout=60
        )
        video.append(response.status_code)

    image = {"image": base64.b64encode(_frame(SHARED, "real")).decode()}
    thread = threading.Thread(target=upload)
    thread.start()
    during = 0  # images answered while the clip (31 frames to a decision) was still being judged
    while thread.is_alive():
        answered = httpx.post(server + "/api/v1/check", json=image, timeout=60).status_code == 200
        during += answered and thread.is_alive()
    thread.join()
    assert video == [200] and during >= 2


def _png(width: int, height: int) -> bytes:
    import numpy as np

    return cv2.imencode(".png", np.full((height, width, 3), 128, np.uint8))[1].tobytes()


@pytest.mark.parametrize(
    "request_args, status",
    [
        ({"method": "GET", "url": "/nowhere"}, 404),
        ({"method": "DELETE", "url": "/api/v1/check"}, 405),
        ({"method": "POST", "url": "/api/v1/check", "content": b"[" * 100_000 + b"]" * 100_000,
          "headers": {"content-type": "application/json"}}, 422),
    ],
)  # fmt: skip
def test_every_error_has_one_json_shape(server, request_args, status):
    method, url = request_args.pop("method"), server + request_args.pop("url")
    response = httpx.request(method, url, **request_args)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"code", "message"} and "/proc/" not in error["message"]


def test_a_tiny_image_is_answered_not_a_500(server):
    response = httpx.post(server + "/api/v1/check", files={"file": ("tiny.png", _png(1, 1), "image/png")})
    assert response.status_code == 200
    assert response.json()["decision"] == "uncertain"


def test_stream_answers_every_bad_message_and_stays_open(server):
    from websockets.sync.client import connect

    with connect(server.replace("http", "ws") + "/api/v1/stream") as ws:
        for text in ("[1, 2]", "null", "123", "not json", "[" * 100_000):
            ws.send(text)
            assert json.loads(ws.recv())["type"] == "error"
        ws.send(_png(1, 1))  # a valid image with no face in it: a frame with no faces, not an error
        tiny = json.loads(ws.recv())
        assert tiny["type"] == "frame" and tiny["faces"] == []
        ws.send(_frame(SHARED, "real"))  # still open and working
        assert json.loads(ws.recv())["faces"]


def test_concurrent_dense_uploads_wait_for_the_decode_budget(shared):
    import concurrent.futures

    import numpy as np

    # a small file that decodes to 72 MB: 3000x3000 16-bit RGBA of one grey
    dense = cv2.imencode(".png", np.full((3000, 3000, 4), 30000, np.uint16))[1].tobytes()
    with running_server("--rate-limit", "0", "--max-decodes", "1") as base:

        def send(_):
            return httpx.post(base + "/api/v1/check", files={"file": ("d.png", dense)}, timeout=60)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(send, range(8)))
        for r in responses:  # answered one decode at a time: a result, or "busy" with when to retry
            assert r.status_code == 200 or (r.status_code == 503 and r.headers["retry-after"] == "1")
        assert any(r.status_code == 200 for r in responses)
        assert httpx.get(base + "/healthz").status_code == 200


def test_a_stream_is_limited_in_frames_a_second(server):
    from websockets.sync.client import connect

    with connect(server.replace("http", "ws") + "/api/v1/stream") as ws:
        for _ in range(80):  # far faster than any camera, in well under a second
            ws.send("{}")
        codes = [json.loads(ws.recv())["code"] for _ in range(80)]
    assert codes.count("rate_limited") >= 40  # 30 a second, bursts of 30
    assert codes.count("bad_message") >= 25


def test_a_truncated_video_is_a_415_that_names_no_internal_path(server):
    from tests.conftest import REAL_VIDEO

    cut = REAL_VIDEO.read_bytes()[:60_000]
    response = httpx.post(
        server + "/api/v1/check-video", content=cut, headers={"content-type": "video/mp4"}, timeout=60
    )
    assert response.status_code == 415, response.text  # the first 60 kB hold no whole frame
    assert response.json()["error"]["code"] == "not_a_video"
    assert "/proc/" not in response.text and "/tmp/" not in response.text


def test_two_workers_serve_the_settings_they_were_given(shared):
    """`serve --workers 2`: the settings reach each worker process through the environment, and
    every answer carries them (the calibrated threshold, the model)."""
    with running_server("--workers", "2", "--threshold", "0.25", "--model", "colour-texture") as base:
        real = _frame(SHARED, "real")
        answers = [
            httpx.post(base + "/api/v1/check", files={"file": ("r.jpg", real)}).json() for _ in range(6)
        ]
    assert {(a["model"], a["threshold"]) for a in answers} == {("colour_texture", 0.25)}
    assert len({a["score"] for a in answers}) == 1  # every worker scores the same face alike
