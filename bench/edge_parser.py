"""Requests/s of the edge router with its HTTP parser before and after h11 (issue 18), same run.

Each router (the old one read from a git revision, the new one from this tree) runs in its own
process with a worker played by a FrameServer in that process, and wrk drives it; the runs
alternate (old, new, old, new, ...) and the medians are printed.

    .venv/bin/python bench/edge_parser.py        # before: e7df204, the hand-written parser
    BEFORE=3d678cc ROUNDS=3 DURATION=5 .venv/bin/python bench/edge_parser.py   # vs h11

Measured (2 shared cores, wrk -c16, medians of 3 x 4 s): hand-written 5,763 req/s, httptools
4,989 (0.87x); in another run h11 2,010, httptools 3,079 (1.53x).
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVE = r"""
import asyncio, importlib.util, socket, sys, tempfile
from pathlib import Path
from wranglerpy.deploy.routes import build_table
from wranglerpy.host.pool import WorkerPool
from wranglerpy.logs.hub import LogHub
from wranglerpy.wire import frames
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import ResponseHead
from wranglerpy.wire.server import FrameServer

spec = importlib.util.spec_from_file_location("router_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

class T:
    def __init__(self, client, pool):
        self.client, self.pool = client, pool

async def fetch(head, call):
    async for _ in call.body():
        pass
    await call.respond(ResponseHead(200, [(b"content-type", b"text/plain")]), b"hello world")

async def main():
    path = tempfile.mktemp(suffix=".sock", dir="/tmp")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path); sock.listen(512)
    server = FrameServer({frames.FETCH: fetch})
    await server.start(sock)
    targets = {"api": T(FrameClient(path), WorkerPool("api", [], LogHub()))}
    router = module.Router(lambda name, *_headers: targets.get(name))
    router.table = build_table({"api": (True, ())})
    public = await asyncio.start_server(router.handle, "127.0.0.1", int(sys.argv[2]))
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(router_file: Path, duration: int, connections: int) -> float:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(router_file), str(port)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "-H",
                "Host: api.localhost",
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        found = re.search(r"Requests/sec:\s+([\d.]+)", out)
        assert found, out
        return float(found.group(1))
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    before = os.environ.get("BEFORE", "e7df204")
    rounds = int(os.environ.get("ROUNDS", "3"))
    duration = int(os.environ.get("DURATION", "5"))
    connections = int(os.environ.get("CONNECTIONS", "16"))
    old_source = subprocess.run(
        ["git", "show", f"{before}:wranglerpy/deploy/router.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory() as folder:
        old_file = Path(folder) / "router_before.py"
        old_file.write_text(old_source)
        new_file = ROOT / "wranglerpy" / "deploy" / "router.py"
        results: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(rounds):
            results["before"].append(run(old_file, duration, connections))
            results["after"].append(run(new_file, duration, connections))
    for label, values in results.items():
        print(f"{label:6} median {statistics.median(values):8.0f} req/s  runs {values}")
    ratio = statistics.median(results["after"]) / statistics.median(results["before"])
    print(f"after/before: {ratio:.2f}")


if __name__ == "__main__":
    main()
