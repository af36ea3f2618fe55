#!/usr/bin/env python3
"""Per-operation latency of the local KV and D1 bindings, next to wrangler's figures.

    .venv/bin/python bench/bindings_kv_d1.py            # binding calls, as worker code makes them
    .venv/bin/python bench/bindings_kv_d1.py --http     # also /kv and /d1 through `wranglerpy dev`

The first table times each awaited binding call in one event loop (what a worker's handler
waits for). The peer figures (wrangler 4.86, ../shared/bench/peer-wrangler/RESULTS.md) were
taken over HTTP through `wrangler dev`, so ``--http`` also runs the peer's routes (/kv?k=bench,
/d1 = ``SELECT 1``) through a real ``wranglerpy dev`` with the same client loop for the fair
comparison. Loopback only; every loop is bounded; the dev server is stopped by its process group.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wranglerpy.bindings.d1 import D1DatabaseBinding  # noqa: E402
from wranglerpy.bindings.kv import KVNamespaceBinding  # noqa: E402

PEER_HTTP_P50_MS = {"KV get": 3.087, "D1 first (SELECT 1)": 6.247}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))]


async def timed(n: int, op: Callable[[int], Awaitable[object]]) -> list[float]:
    for i in range(min(100, n)):  # warm-up
        await op(i)
    out = []
    for i in range(n):
        started = time.perf_counter()
        await op(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


async def binding_ops(folder: Path, n: int) -> dict[str, list[float]]:
    kv = KVNamespaceBinding(folder / "kv.sqlite")
    db = D1DatabaseBinding(folder / "db.sqlite")
    await kv.put("bench", "hello-from-kv")
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    one = db.prepare("SELECT 1 AS one")
    insert = db.prepare("INSERT INTO t (v) VALUES (?)")
    mib = os.urandom(1024 * 1024)
    results = {
        "KV get": await timed(n, lambda i: kv.get("bench")),
        "KV put": await timed(n, lambda i: kv.put(f"k{i % 1000}", "value")),
        "KV list (100 keys)": await timed(n // 10, lambda i: kv.list(limit=100)),
        "KV put 1 MiB": await timed(50, lambda i: kv.put("big", mib)),
        "KV get 1 MiB": await timed(50, lambda i: kv.get("big", "arrayBuffer")),
        "D1 first (SELECT 1)": await timed(n, lambda i: one.first()),
        "D1 run (INSERT)": await timed(n, lambda i: insert.bind(str(i)).run()),
        "D1 batch (10 INSERTs)": await timed(
            n // 10, lambda i: db.batch([insert.bind(str(j)) for j in range(10)])
        ),
    }
    kv.close()
    db.close()
    return results


def http_ops(folder: Path, n: int) -> dict[str, list[float]]:
    """The peer's /kv and /d1 routes through a real `wranglerpy dev`."""
    wpy = Path(sys.executable).with_name("wranglerpy")
    proj = folder / "proj"
    subprocess.run(["cp", "-r", str(ROOT / "bench" / "peer"), str(proj)], check=True)
    state = folder / "state"
    cfg = ["-c", "wrangler-streaming.toml", "--persist-to", str(state)]
    seed = [
        str(wpy),
        "kv",
        "key",
        "put",
        "--local",
        *cfg,
        "--binding",
        "KV",
        "bench",
        "hello-from-kv",
    ]
    subprocess.run(seed, cwd=proj, check=True, capture_output=True)
    port = 18900
    log = open(folder / "dev.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(wpy), "dev", *cfg, "--port", str(port), "--ip", "127.0.0.1"],
        cwd=proj,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        deadline = time.monotonic() + 60
        while True:
            try:
                conn.request("GET", "/health")
                conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("wranglerpy dev did not answer within 60 s") from None
                conn.close()
                time.sleep(0.1)
        out: dict[str, list[float]] = {}
        for label, path in (("HTTP /health", "/health"), ("HTTP KV get", "/kv?k=bench"),
                            ("HTTP D1 first (SELECT 1)", "/d1")):  # fmt: skip
            times = []
            for i in range(n + 100):
                started = time.perf_counter()
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise SystemExit(f"{path} answered {response.status}")
                if i >= 100:
                    times.append((time.perf_counter() - started) * 1000)
            out[label] = times
        conn.close()
        return out
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="timed calls per operation")
    parser.add_argument("--http", action="store_true", help="also measure through wranglerpy dev")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wranglerpy-bench-") as tmp:
        results = asyncio.run(binding_ops(Path(tmp), args.n))
        if args.http:
            results.update(http_ops(Path(tmp), args.n))
    print(
        f"{'operation':28} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9} {'n':>6}   wrangler p50 (HTTP)"
    )
    for label, values in results.items():
        peer = PEER_HTTP_P50_MS.get(label.removeprefix("HTTP "))
        print(
            f"{label:28} {pct(values, 50):9.3f} {pct(values, 99):9.3f} "
            f"{statistics.fmean(values):9.3f} {len(values):6d}   {'' if peer is None else peer}"
        )


if __name__ == "__main__":
    main()
