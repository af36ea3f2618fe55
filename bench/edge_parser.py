"""Requests/s of the edge router at a git revision and in this tree, same run.

Each router (the old one read from a git revision, the new one from this tree) runs in its own
process with a worker played by a FrameServer in that process, and wrk drives it; the runs
alternate (old, new, new, old, ...) and the medians are printed, with the CPU time the
router's process spent per request (steadier than req/s on a shared machine). Up to 17b9619
the router served itself (``asyncio.start_server(router.handle)``, with ``deploy/http1.py``
read from the same revision); since, it is an ASGI app that ``Router.start`` serves on the
host's HTTP server (uvicorn). Both run on uvloop when it is installed, as the edge daemon.

    .venv/bin/python bench/edge_parser.py        # before: 17b9619, the router's own server
    BEFORE=3d678cc ROUNDS=3 DURATION=5 .venv/bin/python bench/edge_parser.py   # vs h11
    PATHS=/sse .venv/bin/python bench/edge_parser.py   # a streamed (SSE) answer

Measured (2 shared cores, wrk -c16, medians of 3 x 4 s): hand-written 5,763 req/s, httptools
4,989 (0.87x); in another run h11 2,010, httptools 3,079 (1.53x).
The router as an ASGI app on the host's uvicorn server against 17b9619's own server (load
~2.7, medians of 4 x 4 s, order alternated): ``/`` 6,326 vs 6,263 req/s (1.01x), 123 vs 129
us CPU per request; ``/sse`` 4,108 vs 3,842 req/s (1.07x), 197 vs 196 us.
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

def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

if Path(sys.argv[3]).exists():  # the revision's own HTTP/1.1 server, beside its router
    load("wranglerpy.deploy.http1", sys.argv[3])
module = load("router_under_test", sys.argv[1])

class T:
    def __init__(self, client, pool):
        self.client, self.pool = client, pool

async def events():
    for n in range(3):
        yield b"data: %d\n\n" % n

async def fetch(head, call):
    async for _ in call.body():
        pass
    if head.url.endswith("/sse"):
        headers = [(b"content-type", b"text/event-stream")]
        await call.respond(ResponseHead(200, headers), stream=events())
        return
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
    if hasattr(router, "handle"):
        await asyncio.start_server(router.handle, "127.0.0.1", int(sys.argv[2]))
    else:
        await router.start(socket.create_server(("127.0.0.1", int(sys.argv[2]))))
    print("ready", flush=True)
    await asyncio.Event().wait()

from wranglerpy.runtime.child import run_event_loop  # uvloop when installed, as the daemon
run_event_loop(main())
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (less disturbed by other load than req/s)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(router_file: Path, duration: int, connections: int, path: str) -> tuple[float, float]:
    """(requests/s, CPU microseconds of the router's process per request)"""
    port = free_port()
    http1 = router_file.parent / "http1.py"
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(router_file), str(port), str(http1)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        cpu = cpu_seconds(proc.pid)
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "-H",
                "Host: api.localhost",
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        cpu = cpu_seconds(proc.pid) - cpu
        found = re.search(r"Requests/sec:\s+([\d.]+)", out)
        total = re.search(r"(\d+) requests in", out)
        assert found and total, out
        return float(found.group(1)), cpu * 1e6 / int(total.group(1))
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    before = os.environ.get("BEFORE", "17b9619")
    rounds = int(os.environ.get("ROUNDS", "3"))
    duration = int(os.environ.get("DURATION", "5"))
    connections = int(os.environ.get("CONNECTIONS", "16"))
    paths = os.environ.get("PATHS", "/").split(",")
    with tempfile.TemporaryDirectory() as folder:
        before_dir = Path(folder) / "before"
        before_dir.mkdir()
        old_file = before_dir / "router.py"
        old_file.write_text(_show(before, "router.py"))
        http1 = _show(before, "http1.py", missing_ok=True)
        if http1:
            (before_dir / "http1.py").write_text(http1)
        new_file = ROOT / "wranglerpy" / "deploy" / "router.py"
        for path in paths:
            results: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
            for n in range(rounds):
                # The order alternates too: the second run of a pair measured ~15% slower
                # with the same router on both sides (an A/A run), which alone looked like a
                # regression.
                pair = [("before", old_file), ("after", new_file)]
                for label, file in pair if n % 2 == 0 else reversed(pair):
                    results[label].append(run(file, duration, connections, path))
            print(f"{path} (before: {before})")
            medians = {}
            for label, values in results.items():
                rps = statistics.median(v[0] for v in values)
                cpu = statistics.median(v[1] for v in values)
                medians[label] = (rps, cpu)
                runs = ", ".join(f"{r:.0f}" for r, _ in values)
                print(f"  {label:6} median {rps:8.0f} req/s {cpu:6.0f} µs CPU/req  runs {runs}")
            rps_ratio = medians["after"][0] / medians["before"][0]
            cpu_ratio = medians["after"][1] / medians["before"][1]
            print(f"  after/before: req/s {rps_ratio:.2f}, CPU per request {cpu_ratio:.2f}")


def _show(revision: str, name: str, missing_ok: bool = False) -> str:
    shown = subprocess.run(
        ["git", "show", f"{revision}:wranglerpy/deploy/{name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if shown.returncode != 0 and not missing_ok:
        raise SystemExit(shown.stderr)
    return shown.stdout if shown.returncode == 0 else ""


if __name__ == "__main__":
    main()
