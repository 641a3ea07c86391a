"""The web app: a browser page and an HTTP/WebSocket API over the inference engine.

Frames are decoded and scored in memory and never written to disk or logs.
Importing this module does not load TensorFlow.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from liveness import __version__
from liveness.checker import Analysis, FrameChecker, LiveCheck, check_clip
from liveness.detect.follow import FaceFollower
from liveness.engine import LivenessEngine
from liveness.errors import InputError, LivenessError
from liveness.io.media import decode_image, in_memory_file, open_video
from liveness.web.limits import BodyLimit, RateLimit, TokenBucket, trim_heap
from liveness.web.settings import Settings

log = logging.getLogger(__name__)
DECODE_WAIT_SECONDS = 5.0
LARGE_PIXELS = 4_000_000  # decodes above this give their freed heap back to the OS
STATIC = Path(__file__).resolve().parent / "static"


MULTIPART_FILE = {  # OpenAPI: a multipart body with one file field named 'file'
    "schema": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    }
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class FaceResult(BaseModel):
    box: list[int] = Field(description="[x, y, w, h] in image pixels")
    score: float = Field(description="probability that the face is real")
    label: str = Field(description="'real' or 'spoof' at the threshold")
    detector_confidence: float


class CheckResult(BaseModel):
    faces: list[FaceResult]
    decision: str = Field(description="'live', 'attack' or 'uncertain'")
    reason: str
    score: float | None = Field(
        default=None, description="real-probability of the face the decision is about; null without a face"
    )
    model: str
    threshold: float


class Base64Image(BaseModel):
    image: str = Field(description="base64 image bytes, optionally as a data: URL")


class Checker:
    """Upload decoding + a frame checker behind one lock (LiteRT interpreters are not thread-safe)."""

    def __init__(self, engine: LivenessEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.frames = FrameChecker.build(
            engine, settings.min_face_px, eyes=settings.blink != "off", poses=settings.challenge
        )
        self.lock = threading.Lock()
        self.decodes = threading.BoundedSemaphore(settings.max_decodes)

    def decode(self, data: bytes) -> np.ndarray:
        """Decode an upload within the worker's memory budget: at most `max_decodes` at once;
        one that waits more than a few seconds for its turn is told to come back (503)."""
        width, height = _image_size(data)  # the header alone, read once
        if not self.decodes.acquire(timeout=DECODE_WAIT_SECONDS):
            raise ApiError(503, "busy", "too many images being decoded; retry shortly", {"Retry-After": "1"})
        try:
            return self._decode(data, width, height)
        finally:
            self.decodes.release()
            if width * height > LARGE_PIXELS:  # its decode left freed buffers behind
                trim_heap()

    def _decode(self, data: bytes, width: int, height: int) -> np.ndarray:
        if max(width, height) > self.settings.max_side:
            raise ApiError(
                422,
                "image_too_large",
                f"image is {width}x{height}; at most {self.settings.max_side} px a side",
            )
        try:
            return decode_image(data, "upload")
        except InputError as exc:
            raise ApiError(415, "not_an_image", str(exc)) from None

    def analyse(self, image: np.ndarray, follower: FaceFollower | None = None) -> Analysis:
        with self.lock:
            return self.frames.analyse(image, follower)

    def check_image(self, image: np.ndarray) -> dict[str, Any]:
        with self.lock:
            return self.frames.check_image(image)

    def stream_check(self) -> LiveCheck:
        """A new streamed check: a fresh window and, with --challenge, freshly drawn prompts."""
        s = self.settings
        return self.frames.live_check(s.blink == "require", s.window_seconds, s.challenge)

    def check_clip(self, data: bytes) -> dict[str, Any]:
        """The decision for an uploaded video, decoded from memory (never written to disk)."""
        with in_memory_file(data) as path:
            try:
                capture = open_video(path)
            except InputError:
                raise ApiError(415, "not_a_video", "the upload is not a video OpenCV can decode") from None
            width, height = capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
            capture.release()
            if max(width, height) > self.settings.max_side:
                raise ApiError(
                    422,
                    "video_too_large",
                    f"video is {width:.0f}x{height:.0f}; at most {self.settings.max_side} px a side",
                )
            require = self.settings.blink == "require"
            try:
                config = self.stream_check().window.config
                return check_clip(path, self.frames, require, config, lock=self.lock)
            except InputError:  # e.g. a truncated file; its message would name the in-memory file
                raise ApiError(
                    415, "not_a_video", "the upload is not a video OpenCV can read to the end"
                ) from None


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height from the header only, so a decompression bomb is never decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except (UnidentifiedImageError, OSError, ValueError):
        raise ApiError(
            415, "not_an_image", "the upload is not an image (JPEG, PNG, WebP, BMP, ...)"
        ) from None
    except Image.DecompressionBombError:
        raise ApiError(422, "image_too_large", "image dimensions are absurdly large") from None


def _from_base64(text: str) -> bytes:
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "bad_base64", "field 'image' is not valid base64") from None


def create_app(settings: Settings | None = None, engine: LivenessEngine | None = None) -> FastAPI:
    """Build the app; the engine (model + detector) is loaded once, here."""
    settings = settings or Settings()
    engine = engine or LivenessEngine.load(
        settings.model,
        detector_type=settings.detector_type,
        detector_options={"confidence": settings.confidence},
        threshold=settings.threshold,
    )
    checker = Checker(engine, settings)
    app = FastAPI(
        title="Face liveness API",
        version=__version__,
        description="Is the face in front of the camera live, or a photo, screen or mask?",
    )
    app.state.checker = checker
    _add_errors(app)
    _add_routes(app, checker)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(RateLimit, per_minute=settings.rate_per_minute)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` worker processes (settings from LIVENESS_* variables)."""
    return create_app(Settings.from_env())


def _add_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        body = {"error": {"code": exc.code, "message": exc.message}}
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(LivenessError)
    async def liveness_error(_: Request, exc: LivenessError) -> JSONResponse:
        return JSONResponse({"error": {"code": "bad_input", "message": str(exc)}}, status_code=422)

    # FastAPI's own errors (404, 405, validation) in the same shape as the project's
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail)}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        message = "; ".join(str(e.get("msg", e)) for e in exc.errors()) or "invalid request"
        return JSONResponse({"error": {"code": "invalid_request", "message": message}}, status_code=422)


def _add_routes(app: FastAPI, checker: Checker) -> None:
    card = checker.engine.card

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": card.name,
            "detector": checker.engine.detector.name,
            "threshold": round(checker.engine.threshold, 4),
            "blink": checker.settings.blink,
        }

    @app.post(
        "/api/v1/check",
        response_model=CheckResult,
        openapi_extra={
            "requestBody": {
                "content": {
                    "multipart/form-data": MULTIPART_FILE,
                    "application/json": {"schema": Base64Image.model_json_schema()},
                }
            }
        },
    )
    async def check(request: Request) -> dict[str, Any]:
        """Check one image: multipart field `file`, or JSON `{"image": "<base64>"}`."""
        data = await _upload_bytes(request)
        image = await run_in_threadpool(checker.decode, data)
        result = await run_in_threadpool(checker.check_image, image)
        return {**result, "model": card.name, "threshold": round(checker.engine.threshold, 4)}

    @app.post(
        "/api/v1/check-video",
        openapi_extra={
            "requestBody": {
                "content": {
                    "multipart/form-data": MULTIPART_FILE,
                    "video/*": {"schema": {"type": "string", "format": "binary"}},
                }
            }
        },
    )
    async def check_video(request: Request) -> dict[str, Any]:
        """Check a short recorded clip (multipart field `file`, or the raw video as the body): the
        same decision as the streamed check, from the clip's first seconds of judgeable frames."""
        kind = request.headers.get("content-type", "")
        if kind.startswith("video/"):
            data = await request.body()
        else:
            data = await _upload_bytes(request, "multipart/form-data (field 'file') or a video/* body")
        result = await run_in_threadpool(checker.check_clip, data)
        return {**result, "model": card.name, "threshold": round(checker.engine.threshold, 4)}

    @app.websocket("/api/v1/stream")
    async def stream(socket: WebSocket) -> None:
        """Binary JPEG/PNG frames (or JSON `{"image": base64}`) in; a JSON result per frame out.

        After about two seconds of judgeable frames a `{"type": "decision"}` message
        follows; `{"type": "reset"}` starts a new check.
        """
        await socket.accept()
        check = checker.stream_check()
        fps = checker.settings.max_stream_fps
        budget = TokenBucket(fps, fps)
        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if not budget.take():
                    message = f"at most {fps} frames a second; this one was dropped"
                    await socket.send_json({"type": "error", "code": "rate_limited", "message": message})
                    continue
                try:
                    check = await _stream_message(socket, checker, check, message)
                except (WebSocketDisconnect, RuntimeError):
                    raise
                except Exception:  # a bug must not drop the socket without a word, nor pass as a verdict
                    log.exception("stream message failed")
                    error = {
                        "type": "error",
                        "code": "internal_error",
                        "message": "this frame could not be checked",
                    }
                    await socket.send_json(error)
        except (WebSocketDisconnect, RuntimeError):
            return


async def _stream_message(socket: WebSocket, checker: Checker, check: LiveCheck, message: dict) -> LiveCheck:
    data = message.get("bytes")
    if data is None:
        try:
            payload = json.loads(message.get("text") or "{}")
        except (json.JSONDecodeError, RecursionError):
            payload = {}
        if not isinstance(payload, dict):  # valid JSON that is not an object: [1, 2], null, 123
            payload = {}
        if payload.get("type") == "reset":
            await socket.send_json({"type": "reset"})
            return checker.stream_check()
        if "image" not in payload:
            await socket.send_json({"type": "error", "code": "bad_message", "message": "send an image"})
            return check
        try:
            data = _from_base64(str(payload["image"]))
        except ApiError as exc:
            await socket.send_json({"type": "error", "code": exc.code, "message": exc.message})
            return check
    try:
        image = await run_in_threadpool(checker.decode, data)
    except ApiError as exc:
        await socket.send_json({"type": "error", "code": exc.code, "message": exc.message})
        return check
    frame = await run_in_threadpool(checker.analyse, image, check.follower)
    final = check.add(frame)
    window = check.window
    result = {
        "type": "frame",
        "faces": frame.faces,
        "problem": frame.problem,
        "progress": window.progress(),
        "width": image.shape[1],
        "height": image.shape[0],
    }
    if window.blinks is not None:
        result.update(blinks=window.blinks.count, waiting_for_blink=window.waiting_for_blink)
    if check.challenge is not None:
        result.update(challenge=check.challenge.status(), pose=frame.pose.to_dict() if frame.pose else None)
    await socket.send_json(result)
    if final is not None:
        await socket.send_json({"type": "decision", **final, "threshold": round(checker.engine.threshold, 4)})
        return checker.stream_check()
    return check


async def _upload_bytes(
    request: Request, accepted: str = "multipart/form-data (field 'file') or JSON"
) -> bytes:
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(422, "missing_file", "multipart body needs a file field named 'file'")
        return await upload.read()
    if kind.startswith("application/json"):
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise ApiError(422, "bad_json", "body is not valid JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("image"), str):
            raise ApiError(422, "missing_image", 'JSON body needs {"image": "<base64>"}')
        return _from_base64(body["image"])
    raise ApiError(415, "unsupported_media_type", f"send {accepted}")
