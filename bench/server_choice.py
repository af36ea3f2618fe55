"""A worker's HTTP server, in the same run, on the same ASGI app and an inherited, pre-bound
socket (as ``dev`` hands it over): hypercorn (what dev used before), plain uvicorn with
httptools and uvloop, and wranglerpy's server as dev runs it (``host/http_server``: uvicorn
with the connection limit, timeouts and handover; uvloop when installed).

Each server runs in its own process (no access log, keep-alive 75 s); `wrk` drives it
(2 connections, 1 thread) for DURATION seconds per round, rounds alternating. Reported:
requests/s and the server process's CPU milliseconds per request (utime + stime from /proc),
which a loaded machine disturbs much less than throughput.

    .venv/bin/python bench/server_choice.py          # ROUNDS=3 DURATION=5
    (hypercorn comes with the test extra's Quart; without it that row is skipped)
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = int(os.environ.get("ROUNDS", "3"))
DURATION = int(os.environ.get("DURATION", "5"))
TICKS = os.sysconf("SC_CLK_TCK")

APP = """
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"x-worker", b"bench")]})
    await send({"type": "http.response.body", "body": b"Hello, World!"})
"""

SERVERS = {
    "hypercorn": """
import asyncio, sys
from hypercorn.asyncio import serve
from hypercorn.config import Config
from app import app
config = Config()
config.bind = [f"fd://{sys.argv[1]}"]
config.accesslog = None
config.loglevel = "ERROR"
config.keep_alive_timeout = 75.0
try:
    import uvloop
    uvloop.run(serve(app, config))
except ImportError:
    asyncio.run(serve(app, config))
""",
    "uvicorn+httptools+uvloop": """
import sys
import uvicorn
from app import app
uvicorn.run(app, fd=int(sys.argv[1]), http="httptools", loop="uvloop", access_log=False,
            log_level="error", timeout_keep_alive=75, lifespan="on")
""",
    "wranglerpy (uvicorn+guards)": """
import asyncio, signal, sys
from app import app
from wranglerpy.host.http_limits import HttpLimits
from wranglerpy.host.http_server import serve
from wranglerpy.runtime.child import StopRequest, run_event_loop

async def main():
    stopping = StopRequest()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.request)
    await serve(app, int(sys.argv[1]), stopping, HttpLimits(idle_timeout=75.0), 5.0)

run_event_loop(main())
""",
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def round_of(name: str, folder: Path) -> dict[str, float]:
    sock = socket.socket()
    # Accepted connections inherit it on Linux: without it a response sent in two writes
    # (headers, then body) waits on delayed ACKs (~40 ms) under uvicorn with an fd socket.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVERS[name], str(sock.fileno())],
        cwd=folder,
        pass_fds=(sock.fileno(),),
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(200):  # until it answers
            if subprocess.run(["curl", "-sf", url], capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        before = cpu_seconds(proc.pid)
        out = subprocess.run(
            ["wrk", "-t1", "-c2", f"-d{DURATION}s", url], capture_output=True, text=True
        ).stdout
        cpu = cpu_seconds(proc.pid) - before
        total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        return {"rps": total / DURATION, "cpu_ms_per_request": cpu / total * 1000}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(10)
        sock.close()


def main() -> int:
    if shutil.which("wrk") is None or shutil.which("curl") is None:
        print("needs wrk and curl (apt-get install wrk curl)", file=sys.stderr)
        return 2
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"wranglerpy-server-choice-{os.getpid()}"
    folder.mkdir()
    (folder / "app.py").write_text(APP)
    names = [n for n in SERVERS if n != "hypercorn" or importlib.util.find_spec("hypercorn")]
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    try:
        for _ in range(ROUNDS):
            for name in names:
                results[name].append(round_of(name, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary = {
        name: {
            "rps": round(statistics.median(r["rps"] for r in rows), 1),
            "cpu_ms_per_request": round(
                statistics.median(r["cpu_ms_per_request"] for r in rows), 3
            ),
        }
        for name, rows in results.items()
    }
    for name, s in summary.items():
        print(f"{name:28} {s['rps']:8.1f} req/s  {s['cpu_ms_per_request']:.3f} CPU ms/request")
    if "--json" in sys.argv:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
