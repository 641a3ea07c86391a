#!/usr/bin/env python3
"""Load test of `liveness serve` on localhost: concurrent clients posting real face images.

Starts its own server (rate limit off, since all clients share one address),
sends `--requests` POST /api/v1/check requests from `--clients` concurrent
clients, and prints throughput, latency percentiles, errors and the server's
resident memory before and after (growth would mean a leak).

    python benchmarks/web_load.py --clients 32 --requests 2000
    python benchmarks/web_load.py --dense-uploads 40

Each detector in `--detectors` (default: res10 at 300x300, the baseline; then
res10-fast, the default; then BlazeFace) gets its own server in the same run,
so their figures compare.

`--dense-uploads N` is the hostile case instead: N clients at once each post a
small PNG that decodes to 4096x4096 16-bit RGBA (~130 MB decoded), against one
worker with the default decode budget (`--max-decodes 2`) and, in the same run,
the baseline of no budget (`--max-decodes N`). The server's memory is sampled
every 50 ms: before, its peak during the burst, and 5 s after it.
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
import numpy as np

from liveness.detect import DEFAULT_DETECTOR

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.web_server import process_tree_rss_mb, running_server  # noqa: E402

SHARED = Path(os.environ.get("LIVENESS_SHARED_DIR", REPO.parent / "shared"))


async def client(base: str, images: list[bytes], queue: asyncio.Queue, latencies: list, errors: list) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            start = time.perf_counter()
            try:
                response = await http.post(
                    "/api/v1/check", files={"file": ("f.jpg", images[i % len(images)])}
                )
                if response.status_code != 200 or "decision" not in response.json():
                    errors.append(response.status_code)
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
            latencies.append((time.perf_counter() - start) * 1000)


async def load(base: str, images: list[bytes], clients: int, requests: int) -> tuple[list, list, float]:
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    latencies: list[float] = []
    errors: list = []
    start = time.perf_counter()
    await asyncio.gather(*(client(base, images, queue, latencies, errors) for _ in range(clients)))
    return latencies, errors, time.perf_counter() - start


def dense_png(side: int = 4096) -> bytes:
    """A PNG of one grey that is ~100 kB on the wire and 8 bytes a pixel once decoded."""
    import cv2

    return cv2.imencode(".png", np.full((side, side, 4), 30000, np.uint16))[1].tobytes()


async def burst(base: str, body: bytes, clients: int) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:

        async def one() -> int | str:
            try:
                response = await http.post("/api/v1/check", files={"file": ("dense.png", body)})
            except httpx.HTTPError as exc:  # the server died or dropped the connection
                return type(exc).__name__
            return response.status_code

        return list(await asyncio.gather(*(one() for _ in range(clients))))


def dense_run(clients: int, max_decodes: int, body: bytes) -> dict:
    """One server, one burst of `clients` dense uploads; memory sampled while it runs."""
    with running_server("--rate-limit", "0", "--max-decodes", str(max_decodes)) as base:
        asyncio.run(burst(base, body, 2))  # warm: the first decodes size the allocator once
        time.sleep(2)
        before = process_tree_rss_mb(base.pid)
        peak, done = [before], []

        async def sample() -> None:
            while not done:
                peak.append(process_tree_rss_mb(base.pid))
                await asyncio.sleep(0.05)

        async def run() -> list[int | str]:
            sampler = asyncio.create_task(sample())
            codes = await burst(base, body, clients)
            done.append(True)
            await sampler
            return codes

        start = time.perf_counter()
        codes = asyncio.run(run())
        seconds = time.perf_counter() - start
        time.sleep(5)
        alive = _alive(base)
        after = process_tree_rss_mb(base.pid) if alive else 0.0
    answered = {str(code): codes.count(code) for code in sorted(set(codes))}
    rss = {"before": before, "peak": max(peak), "after_5s": after}
    return {"max_decodes": max_decodes, "clients": clients, "seconds": seconds, "answers": answered,
            "server_alive_after": alive, "rss_mb": rss}  # fmt: skip


def _alive(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def dense_main(clients: int, json_path: Path | None) -> int:
    body = dense_png()
    runs = [dense_run(clients, 2, body), dense_run(clients, clients, body)]
    print(
        f"{clients} concurrent uploads of a {len(body) / 1024:.0f} kB PNG (4096x4096 16-bit RGBA), one worker"
    )
    print("| decode budget | answers | burst | RSS before | peak | 5 s after | server alive after |")
    print("|---|---|---|---|---|---|")
    for run in runs:
        rss = run["rss_mb"]
        label = "default (2)" if run["max_decodes"] == 2 else f"none ({run['max_decodes']}, the baseline)"
        answers = ", ".join(f"{n} x {code}" for code, n in run["answers"].items())
        cells = [
            label,
            answers,
            f"{run['seconds']:.1f} s",
            *(f"{rss[k]:.0f} MB" for k in ("before", "peak", "after_5s")),
        ]
        print("| " + " | ".join([*cells, str(run["server_alive_after"])]) + " |", flush=True)
    if json_path:
        json_path.write_text(json.dumps(runs, indent=2) + "\n")
    bad = [code for code in runs[0]["answers"] if code not in ("200", "503")]
    return 1 if bad or not runs[0]["server_alive_after"] else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=500, help="requests sent before memory is measured")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--dense-uploads", type=int, metavar="N", help="the hostile dense-PNG burst instead")
    parser.add_argument(
        "--detectors",
        nargs="+",
        default=["res10", DEFAULT_DETECTOR, "blazeface"],
        help="one server after another, each with this face detector (the first is the baseline)",
    )
    args = parser.parse_args()
    if args.dense_uploads:
        return dense_main(args.dense_uploads, args.json)
    frames = sorted((SHARED / "data" / "replay-attack" / "devel").glob("*/frame_00000.jpg"))[::6]
    if not frames:
        print(f"needs the shared Replay-Attack frames under {SHARED}", file=sys.stderr)
        return 2
    images = [f.read_bytes() for f in frames]
    results = [throughput_run(images, args, detector) for detector in args.detectors]
    print(
        "| detector | clients | requests | workers | throughput (req/s) | p50 ms | p95 ms | p99 ms | "
        "errors | server RSS before -> after (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for result in results:
        lat, rss = result["latency_ms"], result["server_rss_mb"]
        cells = [
            result["detector"],
            args.clients,
            args.requests,
            args.workers,
            f"{result['throughput_rps']:.1f}",
            *(f"{lat[p]:.0f}" for p in ("p50", "p95", "p99")),
            result["errors"],
            f"{rss['before']:.0f} -> {rss['after']:.0f}",
        ]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 1 if any(r["errors"] for r in results) else 0


def throughput_run(images: list[bytes], args: argparse.Namespace, detector: str) -> dict:
    """One server with `detector`: a warm-up at full concurrency, then the timed requests."""
    server_args = ("--rate-limit", "0", "--workers", str(args.workers), "--detector-type", detector)
    with running_server(*server_args) as base:
        # warm up at full concurrency first: thread pools and allocator arenas grow once, then stay
        asyncio.run(load(base, images, args.clients, args.warmup))
        before = process_tree_rss_mb(base.pid)
        latencies, errors, seconds = asyncio.run(load(base, images, args.clients, args.requests))
        after = process_tree_rss_mb(base.pid)
    return {
        "detector": detector,
        "clients": args.clients,
        "requests": args.requests,
        "workers": args.workers,
        "throughput_rps": args.requests / seconds,
        "errors": len(errors),
        "latency_ms": {
            p: float(np.percentile(latencies, q)) for p, q in (("p50", 50), ("p95", 95), ("p99", 99))
        },
        "server_rss_mb": {"before": before, "after": after},
    }


if __name__ == "__main__":
    sys.exit(main())
