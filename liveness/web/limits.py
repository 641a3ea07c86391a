"""ASGI middleware: a request body limit (413) and a per-client rate limit (429)."""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict


async def send_error(send, status: int, code: str, message: str, headers: list | None = None) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuses bodies over `max_bytes`, by Content-Length up front or while they stream in."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await send_error(send, 413, "too_large", f"request body over {self.max_bytes} bytes")
            return
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await send_error(send, 413, "too_large", f"request body over {self.max_bytes} bytes")


class RateLimit:
    """A token bucket per client address: `per_minute` requests, bursts up to a tenth of a minute's."""

    EXEMPT = ("/healthz", "/static", "/docs", "/openapi.json")

    def __init__(self, app, per_minute: int) -> None:
        self.app = app
        self.rate = per_minute / 60.0
        self.burst = max(5.0, per_minute / 10.0)
        self.buckets: dict[str, tuple[float, float]] = defaultdict(lambda: (self.burst, time.monotonic()))

    async def __call__(self, scope, receive, send) -> None:
        if (
            self.rate <= 0
            or scope["type"] not in ("http", "websocket")
            or scope["path"].startswith(self.EXEMPT)
        ):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        if len(self.buckets) > 10_000:
            self._forget_idle()
        tokens, last = self.buckets[client]
        now = time.monotonic()
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self.buckets[client] = (tokens, now)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1013})
                return
            wait = str(math.ceil((1.0 - tokens) / self.rate)).encode()
            await send_error(
                send, 429, "rate_limited", "too many requests; slow down", [(b"retry-after", wait)]
            )
            return
        self.buckets[client] = (tokens - 1.0, now)
        await self.app(scope, receive, send)

    def _forget_idle(self) -> None:
        """Drop clients whose bucket has refilled, so memory does not grow with addresses seen."""
        now = time.monotonic()
        full = [c for c, (t, last) in self.buckets.items() if t + (now - last) * self.rate >= self.burst]
        for client in full:
            del self.buckets[client]


class TokenBucket:
    """`rate` events a second on average, bursts of up to `burst`: the frame limit of one stream."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.last = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def trim_heap() -> None:
    """Give freed heap memory back to the operating system (glibc's malloc_trim; a no-op elsewhere).

    A dense upload's decode frees a few hundred MB of intermediate buffers; glibc keeps
    such memory in its arenas for reuse, so without this the worker's resident memory
    stays near its peak after a burst instead of returning to its level.
    """
    global _libc
    if _libc is None:
        import ctypes
        import ctypes.util

        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _libc.malloc_trim  # noqa: B018  (only glibc has it)
        except (OSError, AttributeError):
            _libc = False
    if _libc:
        _libc.malloc_trim(0)


_libc = None
