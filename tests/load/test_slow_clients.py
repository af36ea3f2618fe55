"""Slowloris and idle connections next to normal traffic, against the edge router and dev
(issue 18 finding 7, Must show): normal requests keep succeeding. Bounded: about 8 s of
traffic per target, a few hundred sockets, all on 127.0.0.1."""

from __future__ import annotations

import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.edge_server import EdgeProcess
from tests.waits import wait_until
from wranglerpy.testing.dev_server import DevServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

IDLE = 150
SLOW = 100
SECONDS = 8.0


class Attackers:
    """Idle sockets (connect, say nothing) and slowloris ones (a head, one byte at a time)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.ready = threading.Event()  # every attacker has connected
        self.sockets: list[socket.socket] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        except OSError:
            return None
        sock.setblocking(False)
        self.sockets.append(sock)
        return sock

    def _run(self) -> None:
        for _ in range(IDLE):
            self._connect()
        slow = [s for s in (self._connect() for _ in range(SLOW)) if s is not None]
        for sock in slow:
            try:
                sock.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            except OSError:
                pass
        self.ready.set()
        while not self.stop.wait(0.5):
            for index, sock in enumerate(list(slow)):
                try:
                    sock.send(b"X")  # never a whole header line
                except OSError:
                    slow.remove(sock)
                    replacement = self._connect()  # a persistent attacker comes back
                    if replacement is not None:
                        slow.insert(index, replacement)

    def __enter__(self) -> Attackers:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        for sock in self.sockets:
            sock.close()


def normal_traffic(url: str, host: str) -> tuple[int, list[str]]:
    ok, failures = 0, []
    deadline = time.monotonic() + SECONDS
    with httpx.Client(base_url=url, headers={"host": host}, timeout=10) as client:
        while time.monotonic() < deadline:
            try:
                response = client.get("/")
            except httpx.HTTPError as exc:
                failures.append(repr(exc))
                continue
            if response.status_code == 200:
                ok += 1
            else:
                failures.append(f"{response.status_code} {response.text[:80]}")
    return ok, failures


def _dev(tmp_path: Path, *limits: str) -> DevServer:
    (tmp_path / "worker.py").write_text(
        textwrap.dedent("""
        from workers import WorkerEntrypoint, Response

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response("ok")
    """)
    )
    (tmp_path / "wrangler.toml").write_text(
        'name = "loaded"\nmain = "worker.py"\ncompatibility_date = "2025-09-01"\n'
    )
    flags = [arg for limit in limits for arg in ("--http-limit", limit)]
    return DevServer(
        tmp_path / "wrangler.toml",
        cwd=tmp_path,
        watch=False,
        extra_args=["--no-services", *flags],
    )


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevServer]:
    with _dev(tmp_path, "body_timeout=3", "idle_timeout=3") as server:
        yield server


def test_the_edge_serves_normal_clients_beside_slow_and_idle_ones() -> None:
    with EdgeProcess("header_timeout=2", "idle_timeout=2", "max_connections=400") as edge:
        with Attackers(edge.port) as attackers:
            assert attackers.ready.wait(30)
            ok, failures = normal_traffic(f"http://127.0.0.1:{edge.port}", "api.localhost")
        assert failures == [] and ok > 10, (ok, failures[:5])
        assert "Traceback" not in edge.log(), edge.log()[-2000:]


def test_dev_serves_normal_clients_beside_slow_and_idle_ones(dev: DevServer) -> None:
    with Attackers(dev.port) as attackers:
        assert attackers.ready.wait(30)
        ok, failures = normal_traffic(dev.url(), "localhost")
    assert failures == [] and ok > 10, (ok, failures[:5])
    assert "Traceback" not in dev.output(), dev.output()[-2000:]


LIMIT = 40


def test_dev_answers_503_beyond_its_connection_limit_then_recovers(tmp_path: Path) -> None:
    """``--http-limit max_connections``: as the edge, a quick 503 past the limit keeps the
    descriptors (and the clients already connected) safe; freed places serve again."""
    with _dev(tmp_path, f"max_connections={LIMIT}") as dev:
        held = [socket.create_connection(("127.0.0.1", dev.port)) for _ in range(LIMIT)]
        refusals: list[bytes] = []

        def refused() -> bool:
            sock = socket.create_connection(("127.0.0.1", dev.port), timeout=30)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            answer = sock.recv(65536)
            if answer.startswith(b"HTTP/1.1 503"):
                refusals.append(answer)
                sock.close()
                return True
            held.append(sock)  # answered: it holds a place now (a place freed late, e.g.)
            return False

        try:
            wait_until(refused, "a 503 beyond the connection limit")
        finally:
            for sock in held:
                sock.close()
        assert b"too many connections" in refusals[0]

        def answers() -> bool:
            try:
                return httpx.get(dev.url() + "/", timeout=10).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answers, "dev answering again once the clients left")
        assert "Traceback" not in dev.output(), dev.output()[-2000:]
