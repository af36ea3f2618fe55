"""CPU and latency of one service-binding hop (fetch and RPC) under ``wranglerpy dev``.

    .venv/bin/python bench/hop_cpu.py            # 2000 requests per path, 3 rounds
    N=500 ROUNDS=1 .venv/bin/python bench/hop_cpu.py

Uses the deploy tests' two-worker fixture: ``/health`` is answered by pair-api itself,
``/stream/health`` crosses one service-binding fetch to pair-streaming, ``/rpc`` one RPC call.
CPU is the user+system time of the ``dev`` process and every worker process (from /proc),
divided by the number of requests; a hop's cost is the difference to ``/health``. Requests
are sequential over one keep-alive connection, loopback only; everything started is stopped.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "deploy" / "fixtures" / "pair"
N = int(os.environ.get("N", "2000"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
PATHS = ("/health", "/stream/health", "/rpc")
TICK = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(c) for c in children)
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def measure(client: httpx.Client, path: str, pids: list[int]) -> tuple[float, float]:
    """(CPU ms per request, median latency ms)."""
    latencies = []
    before = cpu_seconds(pids)
    for _ in range(N):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        latencies.append(time.perf_counter() - started)
    used = cpu_seconds(pids) - before
    return used / N * 1000, statistics.median(latencies) * 1000


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from wranglerpy.testing import DevServer

    with tempfile.TemporaryDirectory(prefix="wranglerpy-hop-bench-") as tmp:
        project = Path(tmp) / "pair"
        shutil.copytree(FIXTURE, project)
        environ = {"WRANGLERPY_REGISTRY_PATH": str(Path(tmp) / "registry"), "NO_COLOR": "1"}
        with DevServer(
            "wrangler.toml", "wrangler-streaming.toml", cwd=project, watch=False, environ=environ
        ) as dev:
            pids = tree(dev.process.pid)
            results: dict[str, list[tuple[float, float]]] = {p: [] for p in PATHS}
            with httpx.Client(base_url=dev.url("pair-api")) as client:
                for path in PATHS:
                    for _ in range(200):
                        client.get(path).raise_for_status()
                for _ in range(ROUNDS):
                    for path in PATHS:
                        results[path].append(measure(client, path, pids))
    cpu = {p: statistics.median(r[0] for r in results[p]) for p in PATHS}
    lat = {p: statistics.median(r[1] for r in results[p]) for p in PATHS}
    print(f"{N} sequential requests per path, {ROUNDS} rounds (medians)")
    print(f"{'path':<16}{'CPU ms/req':>12}{'p50 ms':>9}")
    for path in PATHS:
        print(f"{path:<16}{cpu[path]:>12.3f}{lat[path]:>9.3f}")
    print(f"service-binding fetch hop: {cpu['/stream/health'] - cpu['/health']:.3f} CPU ms")
    print(f"RPC hop:                   {cpu['/rpc'] - cpu['/health']:.3f} CPU ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
