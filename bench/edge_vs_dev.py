"""Requests/s of a worker deployed on the local edge versus the same worker under ``dev``,
and the time from ``wranglerpy deploy`` to the first request answered by the new version.

    .venv/bin/python bench/edge_vs_dev.py                 # 5 s per wrk run
    DURATION=10 CONNECTIONS=32 .venv/bin/python bench/edge_vs_dev.py
    PROCESSES=2 .venv/bin/python bench/edge_vs_dev.py     # edge: 2 processes per worker

Uses the deploy tests' two-worker fixture (pair-api -> pair-streaming over a service
binding) and ``wrk`` (apt-get install wrk). Loopback only; everything started is stopped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "deploy" / "fixtures" / "pair"
DURATION = os.environ.get("DURATION", "5")
CONNECTIONS = os.environ.get("CONNECTIONS", "16")
PROCESSES = os.environ.get("PROCESSES", "1")
SWITCHES = int(os.environ.get("SWITCHES", "5"))
PATHS = ("/health", "/stream/health")


def wrk(url: str, host: str | None = None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", url]
    if host:
        command[1:1] = ["-H", f"Host: {host}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan"),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_dev(project: Path, environ: dict[str, str]) -> dict[str, dict[str, float]]:
    sys.path.insert(0, str(ROOT))
    from wranglerpy.testing import DevServer

    with DevServer(
        "wrangler.toml", "wrangler-streaming.toml", cwd=project, watch=False, environ=environ
    ) as dev:
        dev.client("pair-api").get("/health").raise_for_status()
        base = dev.url("pair-api")
        return {path: wrk(base + path) for path in PATHS}


def cli(*args: str, environ: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "wranglerpy", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stdout + result.stderr)
    return result.stdout


def bench_edge(project: Path, environ: dict[str, str]) -> dict[str, object]:
    port = free_port()
    cli(
        "edge", "start", "--port", str(port), "--processes", PROCESSES, environ=environ, cwd=project
    )
    try:
        cli("deploy", "--all", environ=environ, cwd=project)
        host = f"pair-api.localhost:{port}"
        base = f"http://127.0.0.1:{port}"
        httpx.get(base + "/health", headers={"host": host}).raise_for_status()
        results: dict[str, object] = {path: wrk(base + path, host) for path in PATHS}
        switches = []
        api = project / "src" / "api.py"
        source = api.read_text()
        with httpx.Client(base_url=base, headers={"host": host}) as client:
            for n in range(SWITCHES):
                marker = f"bench-{n}-{time.time_ns()}"
                api.write_text(source.replace('VERSION = "v1"', f'VERSION = "{marker}"'))
                started = time.perf_counter()
                cli("deploy", environ=environ, cwd=project)
                while client.get("/health").json()["version"] != marker:
                    time.sleep(0.005)
                switches.append(time.perf_counter() - started)
        results["deploy_to_first_request_s"] = {
            "median": statistics.median(switches),
            "min": min(switches),
            "max": max(switches),
        }
        return results
    finally:
        cli("edge", "stop", environ=environ, cwd=project)


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is needed (apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="wranglerpy-edge-bench-") as tmp:
        work = Path(tmp)
        project = work / "pair"
        shutil.copytree(FIXTURE, project)
        environ = dict(os.environ)
        environ.update(
            WRANGLERPY_EDGE_DIR=str(work / "edge"),
            WRANGLERPY_REGISTRY_PATH=str(work / "registry"),
            NO_COLOR="1",
        )
        dev = bench_dev(project, environ)
        edge = bench_edge(project, environ)
    print(
        f"wrk: {CONNECTIONS} connections, {DURATION} s per run; edge processes/worker: {PROCESSES}"
    )
    print(
        f"{'path':<16}{'dev req/s':>12}{'edge req/s':>12}{'ratio':>8}{'dev p50':>10}{'edge p50':>10}"
    )
    for path in PATHS:
        d, e = dev[path], edge[path]
        assert isinstance(e, dict)
        print(
            f"{path:<16}{d['rps']:>12.0f}{e['rps']:>12.0f}{e['rps'] / d['rps']:>8.2f}"
            f"{d['p50_ms']:>9.2f}ms{e['p50_ms']:>8.2f}ms"
        )
    switch = edge["deploy_to_first_request_s"]
    assert isinstance(switch, dict)
    print(
        f"deploy → first request on the new version: median {switch['median']:.2f} s "
        f"(min {switch['min']:.2f}, max {switch['max']:.2f}, {SWITCHES} deploys, CLI start included)"
    )
    print(json.dumps({"dev": dev, "edge": edge}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
