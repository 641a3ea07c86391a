"""Property-based fuzzing (hypothesis) of the image decoder and of POST /api/v1/check.

Inputs are random bytes and real images broken the ways files break: bytes
flipped, runs overwritten, the file cut short or spliced with another. The
decoder must answer each with an 8-bit BGR image or an InputError; the server
with a 200 or a 4xx in the project's error shape, never a 5xx.
"""

from __future__ import annotations

import cv2
import httpx
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from liveness.errors import InputError  # noqa: E402
from liveness.io.media import decode_image  # noqa: E402
from tests.conftest import SHARED, need_shared  # noqa: E402
from tests.web_server import running_server  # noqa: E402


def _seeds() -> list[bytes]:
    """Small real images in every format the decoder meets: a face frame as JPEG, PNG, 16-bit PNG,
    grey and palette-like PNG, BMP, TIFF and WebP."""
    need_shared()
    frame = cv2.imread(str(sorted((SHARED / "data" / "replay-attack" / "devel").glob("devel__real*"))[0]
                           / "frame_00000.jpg"))  # fmt: skip
    small = cv2.resize(frame, (64, 48))
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    encoded = [
        cv2.imencode(".jpg", frame)[1],
        cv2.imencode(".png", small)[1],
        cv2.imencode(".png", small.astype(np.uint16) * 257)[1],
        cv2.imencode(".png", grey)[1],
        cv2.imencode(".bmp", small)[1],
        cv2.imencode(".tiff", small)[1],
        cv2.imencode(".webp", small)[1],
    ]
    return [e.tobytes() for e in encoded]


SEEDS = _seeds() if (SHARED / "data" / "README.md").is_file() else [b""]


@st.composite
def broken_files(draw) -> bytes:
    """A real image with one to four injuries, or (one time in eight) bytes from nowhere."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.binary(min_size=0, max_size=4096))
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "overwrite", "truncate", "splice", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            run = draw(st.binary(min_size=1, max_size=64))
            data[at : at + len(run)] = run
        elif kind == "truncate":
            data = data[:at]
        elif kind == "splice":
            other = draw(st.sampled_from(SEEDS))
            data = data[:at] + other[draw(st.integers(0, len(other) - 1)) :]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=256))
    return bytes(data)


FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@pytest.mark.shared
@FUZZ
@given(broken_files())
def test_the_decoder_answers_every_file_with_an_image_or_one_clear_error(data):
    try:
        image = decode_image(data, "upload")
    except InputError as exc:
        assert str(exc).startswith("upload")
        return
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3 and image.size > 0


@pytest.fixture(scope="module")
def server(shared):
    with running_server("--rate-limit", "0") as base:
        yield base


@pytest.mark.shared
def test_the_check_endpoint_never_answers_5xx(server):
    """Fuzzed uploads as multipart files and as base64 JSON, against the real server."""
    import base64

    seen: dict[int, int] = {}
    with httpx.Client(base_url=server, timeout=60) as http:

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        @given(broken_files(), st.booleans())
        def post(data: bytes, as_json: bool) -> None:
            if as_json:
                response = http.post("/api/v1/check", json={"image": base64.b64encode(data).decode()})
            else:
                response = http.post("/api/v1/check", files={"file": ("upload.bin", data)})
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code < 500, response.text
            body = response.json()
            if response.status_code == 200:
                assert body["decision"] in ("live", "attack", "uncertain")
            else:
                assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])

        post()
    assert (
        seen.get(200, 0) > 0 and sum(n for code, n in seen.items() if code >= 400) > 0
    )  # both kinds were met
