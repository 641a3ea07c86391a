#!/usr/bin/env python3
"""Soak test of `liveness serve`: HTTP checks, video uploads and WebSocket streams at once, for minutes.

One worker with its default limits (rate limit off: every client shares one
address). At the same time: `--http` clients post real Replay-Attack frames to
/api/v1/check, one client uploads a shared clip to /api/v1/check-video every
few seconds, and `--streams` WebSocket clients stream frames at 10 a second
and start a new check after each decision. Every answer is checked (a 200 with
a decision, a frame result or a decision on the socket); anything else is an
error. The server's memory is sampled every 10 s: the first minute is warm-up,
after which it should stay flat.

    python benchmarks/web_soak.py --minutes 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import httpx
import websockets

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.web_server import process_tree_rss_mb, running_server  # noqa: E402

SHARED = Path(os.environ.get("LIVENESS_SHARED_DIR", REPO.parent / "shared"))
WARMUP_S = 60.0


class Tally:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {"check": 0, "video": 0, "stream_frames": 0, "stream_decisions": 0}
        self.errors: list[str] = []


async def http_client(base: str, images: list[bytes], stop: float, tally: Tally, k: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        i = k
        while time.monotonic() < stop:
            response = await http.post("/api/v1/check", files={"file": ("f.jpg", images[i % len(images)])})
            i += 1
            if response.status_code == 200 and "decision" in response.json():
                tally.counts["check"] += 1
            else:
                tally.errors.append(f"check {response.status_code}")


async def video_client(base: str, clip: bytes, stop: float, tally: Tally) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        while time.monotonic() < stop:
            response = await http.post("/api/v1/check-video", files={"file": ("clip.mp4", clip)})
            if response.status_code == 200 and "decision" in response.json():
                tally.counts["video"] += 1
            else:
                tally.errors.append(f"video {response.status_code}")
            await asyncio.sleep(3)


async def stream_client(base: str, images: list[bytes], stop: float, tally: Tally) -> None:
    url = base.replace("http://", "ws://") + "/api/v1/stream"
    async with websockets.connect(url, max_size=2**24) as socket:
        i = 0
        while time.monotonic() < stop:
            await socket.send(images[i % len(images)])
            i += 1
            while True:  # one frame result, and a decision after it once the window is full
                answer = json.loads(await socket.recv())
                if answer.get("type") == "frame":
                    tally.counts["stream_frames"] += 1
                elif answer.get("type") == "decision":
                    tally.counts["stream_decisions"] += 1
                    await socket.send(json.dumps({"type": "reset"}))
                    continue
                elif answer.get("type") == "reset":
                    continue
                else:
                    tally.errors.append(f"stream {answer}")
                break
            await asyncio.sleep(0.1)


async def sampler(pid: int, stop: float, samples: list[tuple[float, float]]) -> None:
    start = time.monotonic()
    while time.monotonic() < stop:
        samples.append((time.monotonic() - start, process_tree_rss_mb(pid)))
        await asyncio.sleep(10)


async def soak(base: str, minutes: float, http: int, streams: int) -> tuple[Tally, list]:
    frames = sorted((SHARED / "data" / "replay-attack" / "devel").glob("*/frame_00000.jpg"))[::6]
    images = [f.read_bytes() for f in frames]
    clip = (SHARED / "data" / "videos" / "lestari15" / "real.mp4").read_bytes()
    stop = time.monotonic() + minutes * 60
    tally, samples = Tally(), []
    jobs = [http_client(base, images, stop, tally, k) for k in range(http)]
    jobs += [stream_client(base, images, stop, tally) for _ in range(streams)]
    jobs += [video_client(base, clip, stop, tally), sampler(base.pid, stop, samples)]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    tally.errors += [f"client failed: {r!r}" for r in results if isinstance(r, Exception)]
    return tally, samples


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--http", type=int, default=4, help="concurrent HTTP check clients (default: 4)")
    parser.add_argument("--streams", type=int, default=2, help="concurrent WebSocket streams (default: 2)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (SHARED / "data" / "replay-attack").is_dir():
        print(f"needs the shared data under {SHARED}", file=sys.stderr)
        return 2
    with running_server("--rate-limit", "0") as base:
        tally, samples = asyncio.run(soak(base, args.minutes, args.http, args.streams))
    settled = [rss for t, rss in samples if t >= WARMUP_S]
    result = {
        "minutes": args.minutes,
        "answers": tally.counts,
        "errors": len(tally.errors),
        "first_errors": tally.errors[:5],
        "rss_mb_after_warmup": {"first": settled[0], "last": settled[-1], "max": max(settled)}
        if settled
        else {},
        "rss_samples": samples,
    }
    rss = result["rss_mb_after_warmup"]
    print("| minutes | HTTP checks | video checks | stream frames | stream decisions | errors | "
          "RSS after warm-up: first → last (max) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    c = tally.counts
    rss_text = f"{rss['first']:.0f} → {rss['last']:.0f} MB ({rss['max']:.0f})" if rss else "n/a"
    cells = [
        f"{args.minutes:g}",
        *(str(c[k]) for k in ("check", "video", "stream_frames", "stream_decisions")),
    ]
    print("| " + " | ".join([*cells, str(len(tally.errors)), rss_text]) + " |")
    for error in tally.errors[:5]:
        print("error:", error)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
