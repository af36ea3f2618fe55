"""The edge router in a process of its own, for the fuzz and load tests: a real Router (the
host's HTTP server, limits) in front of a worker played by a FrameServer in the same process.

    python -m tests.edge_server PORT_FILE [KEY=VALUE ...]   # --http-limit items

It writes its port to PORT_FILE once it listens, and logs to stderr (asyncio's errors
included), which the tests read for tracebacks.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from wranglerpy.deploy.router import Router
from wranglerpy.deploy.routes import build_table
from wranglerpy.host.http_limits import parse_limits, quiet_accept_errors
from wranglerpy.host.pool import WorkerPool
from wranglerpy.logs.hub import LogHub
from wranglerpy.wire import frames
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import FetchHead, ResponseHead
from wranglerpy.wire.server import Call, FrameServer


@dataclass
class Target:
    client: FrameClient
    pool: WorkerPool


async def fetch(head: FetchHead, call: Call) -> None:
    try:
        size = sum([len(chunk) async for chunk in call.body()])
    except ConnectionError:
        await call.respond(ResponseHead(400, []), b"cut")
        return
    await call.respond(ResponseHead(200, [(b"x-got", str(size).encode())]), b"ok")


async def main(port_file: Path, items: list[str]) -> None:
    loop = asyncio.get_running_loop()
    quiet_accept_errors(loop)
    folder = Path(tempfile.mkdtemp(prefix="wpy-edge-"))
    path = str(folder / "w.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(512)
    server = FrameServer({frames.FETCH: fetch})
    await server.start(sock)
    targets = {"api": Target(FrameClient(path), WorkerPool("api", [], LogHub()))}
    router = Router(lambda name, *_headers: targets.get(name), parse_limits(items))
    router.table = build_table({"api": (True, ())})
    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
    await router.start(listener)
    port_file.write_text(str(listener.getsockname()[1]))
    await asyncio.Event().wait()


class EdgeProcess:
    """``with EdgeProcess("idle_timeout=2") as edge: edge.port, edge.log(), edge.fds()``."""

    def __init__(self, *items: str) -> None:
        self.items = list(items)
        self.folder = Path(tempfile.mkdtemp(prefix="wpy-edgeproc-"))
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> EdgeProcess:
        port_file = self.folder / "port"
        self.stderr = open(self.folder / "stderr.log", "wb")  # noqa: SIM115 - closed in __exit__
        root = Path(__file__).resolve().parent.parent
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.edge_server", str(port_file), *self.items],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the edge process did not start: {self.log()}")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        return self

    def log(self) -> str:
        return (self.folder / "stderr.log").read_text(errors="replace")

    def fds(self) -> int:
        assert self.proc is not None
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(10)
        self.stderr.close()
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2:]))
