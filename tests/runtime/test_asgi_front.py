"""dev's public HTTP port under hostile input (issue 18, findings 2, 7, 8, 12), against a real
``wranglerpy dev`` (uvicorn in the worker process), over raw sockets.

Cloudflare answers 413 above 100 MB (developers.cloudflare.com/workers/platform/limits);
the Host allow-list follows Vite's ``server.allowedHosts`` (localhost names and IPs).
"""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest

from wranglerpy.testing.dev_server import DevServer

WORKER = """
from workers import WorkerEntrypoint, Response

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.method == "POST":
            try:
                data = await request.bytes()
            except Exception as exc:
                print("body refused:", type(exc).__name__)
                return Response("refused", status=400)
            await self.env.KV.put("upload", data)
            return Response(f"stored {len(data)}")
        value = await self.env.KV.get("upload")
        return Response(f"kv={None if value is None else len(value)}")
"""


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory):
    root: Path = tmp_path_factory.mktemp("front")
    (root / "worker.py").write_text(textwrap.dedent(WORKER))
    (root / "wrangler.toml").write_text(
        'name = "front"\nmain = "worker.py"\ncompatibility_date = "2025-09-01"\n'
        'routes = ["api.example.test/*"]\n'
        '[[kv_namespaces]]\nbinding = "KV"\nid = "kv"\n'
    )
    server = DevServer(
        root / "wrangler.toml",
        cwd=root,
        watch=False,
        extra_args=[
            "--no-services",
            "--http-limit",
            "max_body=5000",
            "--http-limit",
            "idle_timeout=2",
            "--http-limit",
            "body_timeout=2",
        ],
    )
    with server:
        yield server


def _raw(dev: DevServer, data: bytes, *, shut: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", dev.port), timeout=20) as sock:
        sock.sendall(data)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _get(dev: DevServer, host: str) -> bytes:
    return _raw(dev, f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())


def test_only_allowed_hosts_are_answered(dev):
    for host in (
        "localhost",
        f"localhost:{dev.port}",
        "front.localhost",
        "127.0.0.1",
        "[::1]:8787",
        "api.example.test",
    ):
        assert _get(dev, host).startswith(b"HTTP/1.1 200"), host
    refused = _get(dev, "evil.example.com")
    assert refused.startswith(b"HTTP/1.1 403") and b"DNS rebinding" in refused


def test_a_body_cut_short_is_never_stored(dev):
    answer = _raw(
        dev, b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10
    )
    assert b"stored" not in answer
    with dev.client() as client:
        assert client.get("/").text == "kv=None"
        assert client.post("/", content=b"y" * 100).text == "stored 100"  # whole bodies are


def test_a_declared_body_over_the_limit_is_413(dev):
    answer = _raw(dev, b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 9000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_chunked_body_over_the_limit_is_refused_not_stored(dev):
    chunk = b"%x\r\n%s\r\n" % (3000, b"z" * 3000)
    answer = _raw(
        dev,
        b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunk
        + chunk
        + b"0\r\n\r\n",
    )
    assert b"stored" not in answer and answer.startswith(b"HTTP/1.1 400")


def test_idle_and_slow_connections_are_closed(dev):
    with socket.create_connection(("127.0.0.1", dev.port), timeout=20) as sock:
        assert sock.recv(100) == b""  # idle: dev closes it (idle_timeout=2)
    with socket.create_connection(("127.0.0.1", dev.port), timeout=20) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")  # a head that never ends
        while sock.recv(65536):
            pass  # ends: dev closed it
