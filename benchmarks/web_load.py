#!/usr/bin/env python3
"""Load test of `liveness serve` on localhost: concurrent clients posting real face images.

Starts its own server (rate limit off, since all clients share one address),
sends `--requests` POST /api/v1/check requests from `--clients` concurrent
clients, and prints throughput, latency percentiles, errors and the server's
resident memory before and after (growth would mean a leak).

    python benchmarks/web_load.py --clients 32 --requests 2000
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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=500, help="requests sent before memory is measured")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    frames = sorted((SHARED / "data" / "replay-attack" / "devel").glob("*/frame_00000.jpg"))[::6]
    if not frames:
        print(f"needs the shared Replay-Attack frames under {SHARED}", file=sys.stderr)
        return 2
    images = [f.read_bytes() for f in frames]
    with running_server("--rate-limit", "0", "--workers", str(args.workers)) as base:
        # warm up at full concurrency first: thread pools and allocator arenas grow once, then stay
        asyncio.run(load(base, images, args.clients, args.warmup))
        before = process_tree_rss_mb(base.pid)
        latencies, errors, seconds = asyncio.run(load(base, images, args.clients, args.requests))
        after = process_tree_rss_mb(base.pid)
    result = {
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
    print(
        "| clients | requests | workers | throughput (req/s) | p50 ms | p95 ms | p99 ms | errors | "
        "server RSS before -> after (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    lat = result["latency_ms"]
    cells = [
        args.clients,
        args.requests,
        args.workers,
        f"{result['throughput_rps']:.1f}",
        f"{lat['p50']:.0f}",
        f"{lat['p95']:.0f}",
        f"{lat['p99']:.0f}",
        len(errors),
        f"{before:.0f} -> {after:.0f}",
    ]
    print("| " + " | ".join(str(c) for c in cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
