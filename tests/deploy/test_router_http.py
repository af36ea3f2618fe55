"""The edge router's HTTP/1.1 strictness and limits (issue 18 findings 1, 3, 7, 8), over raw
sockets against a worker played by a FrameServer in this process.

RFC 9112 6.3 / 3.2 name the ambiguities answered 400 here; Cloudflare answers 413 above
100 MB (developers.cloudflare.com/workers/platform/limits, "Request limits").
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from tests.deploy.test_router import Target, Worker
from wranglerpy.deploy.router import Router
from wranglerpy.deploy.routes import build_table
from wranglerpy.host.http_limits import HttpLimits
from wranglerpy.host.pool import WorkerPool
from wranglerpy.logs.hub import LogHub
from wranglerpy.wire import frames
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.server import FrameServer


class Edge:
    def __init__(self, router: Router, worker: Worker, port: int) -> None:
        self.router = router
        self.worker = worker
        self.port = port

    async def exchange(self, raw: bytes, *, half_close: bool = False) -> bytes:
        """Send ``raw``; everything the edge answers until it closes the connection."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(raw)
        await writer.drain()
        if half_close:
            writer.write_eof()
        try:
            return await asyncio.wait_for(reader.read(-1), 10)
        finally:
            writer.close()


@pytest.fixture
async def edge_http():
    folder = Path(tempfile.mkdtemp(prefix="wpy-", dir="/tmp"))
    path = str(folder / "w.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(8)
    worker = Worker()
    server = FrameServer({frames.FETCH: worker.fetch})
    await server.start(sock)
    pool = WorkerPool("api", [], LogHub())
    worker.pool = pool
    targets = {"api": Target(FrameClient(path), pool)}
    router = Router(
        lambda name, *_headers: targets.get(name),
        HttpLimits(header_timeout=0.5, idle_timeout=0.5, body_timeout=0.5, max_body=1000),
    )
    router.table = build_table({"api": (True, ())})
    listener = socket.create_server(("127.0.0.1", 0))
    await router.start(listener)
    port = listener.getsockname()[1]
    yield Edge(router, worker, port)
    await router.close()
    targets["api"].client.close()
    await server.close(grace=1.0)
    shutil.rmtree(folder, ignore_errors=True)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


HOST = b"Host: api.localhost\r\n"
MALFORMED = {
    "bad chunk size": b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    "CL and TE": b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 4\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "space before colon": b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 4\r\n"
    b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n" + HOST + b"\r\n",
    "conflicting lengths": b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 4\r\n"
    b"Content-Length: 5\r\n\r\nabcde",
    "xchunked": b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "+5 chunk": b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
    b"+5\r\nabcde\r\n0\r\n\r\n",
    "0x5 chunk": b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
    b"0x5\r\nabcde\r\n0\r\n\r\n",
    "NUL in header": b"GET / HTTP/1.1\r\n" + HOST + b"X-A: a\x00b\r\n\r\n",
    "control byte in header": b"GET / HTTP/1.1\r\n" + HOST + b"X-A: a\x01b\r\n\r\n",
    "NUL in request line": b"GET /\x00 HTTP/1.1\r\n" + HOST + b"\r\n",
    "bad host": b"GET / HTTP/1.1\r\nHost: api.localhost:1/cdn-cgi/handler/scheduled?cron=evil&"
    b"\r\n\r\n",
    "two hosts": b"GET / HTTP/1.1\r\n" + HOST + b"Host: other.localhost\r\n\r\n",
    "fragment": b"GET /cdn-cgi/handler/scheduled#x HTTP/1.1\r\n" + HOST + b"\r\n",
    "DEL in target": b"GET /a\x7fb HTTP/1.1\r\n" + HOST + b"\r\n",
}


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_a_malformed_request_is_400_and_the_connection_closed(edge_http, name):
    answer = await edge_http.exchange(MALFORMED[name])  # read(-1) ends: the edge closed
    assert _status(answer) == 400, answer
    assert b"connection: close" in answer.lower()
    assert answer.count(b"HTTP/1.1 ") == 1  # nothing smuggled after it
    assert edge_http.worker.heads == []


async def test_malformed_chunked_bodies_leak_no_descriptor(edge_http):
    await edge_http.exchange(MALFORMED["bad chunk size"])
    before = _open_fds()
    for _ in range(50):
        answer = await edge_http.exchange(MALFORMED["bad chunk size"])
        assert _status(answer) == 400
    await asyncio.sleep(0)
    assert _open_fds() <= before


async def test_the_edge_never_runs_cdn_cgi_paths(edge_http):
    for target in (
        b"/cdn-cgi/handler/scheduled?cron=evil",
        b"/cdn-cgi/local/scheduled",
        b"http://api.localhost/cdn-cgi/handler/scheduled",
    ):
        answer = await edge_http.exchange(
            b"GET " + target + b" HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
        )
        assert _status(answer) == 404, target
    assert edge_http.worker.heads == []


async def test_a_declared_body_over_the_limit_is_413_without_reading_it(edge_http):
    answer = await edge_http.exchange(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 1073741824\r\n\r\n"
    )
    assert _status(answer) == 413 and edge_http.worker.heads == []


async def test_a_chunked_body_over_the_limit_is_413(edge_http):
    chunk = b"%x\r\n%s\r\n" % (600, b"x" * 600)
    answer = await edge_http.exchange(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n" + chunk + chunk
    )
    assert _status(answer) == 413


async def test_a_huge_declared_chunk_is_not_buffered(edge_http):
    """A 1 GiB chunk size: the edge counts what arrives, 413 once past the limit."""
    answer = await edge_http.exchange(
        b"POST / HTTP/1.1\r\n"
        + HOST
        + b"Transfer-Encoding: chunked\r\n\r\n40000000\r\n"
        + b"x" * 2000
    )
    assert _status(answer) == 413


async def test_a_body_cut_short_reaches_no_worker_as_complete(edge_http):
    answer = await edge_http.exchange(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 100\r\n\r\n" + b"x" * 10,
        half_close=True,
    )
    assert answer == b"" or _status(answer) == 400
    assert edge_http.worker.heads == []


async def test_slow_heads_and_idle_connections_are_closed(edge_http):
    reader, writer = await asyncio.open_connection("127.0.0.1", edge_http.port)
    writer.write(b"GET / HTTP/1.1\r\n")  # and nothing more: slowloris
    answer = await asyncio.wait_for(reader.read(-1), 10)
    assert _status(answer) == 408
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", edge_http.port)
    assert await asyncio.wait_for(reader.read(-1), 10) == b""  # idle: closed, no answer
    writer.close()


async def test_connections_over_the_limit_get_503(edge_http):
    edge_http.router.limits = HttpLimits(max_connections=1, idle_timeout=5)
    reader, writer = await asyncio.open_connection("127.0.0.1", edge_http.port)
    writer.write(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    await reader.readuntil(b"hello ")  # the first connection is served and kept
    answer = await edge_http.exchange(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    assert _status(answer) == 503
    writer.close()


async def test_keep_alive_and_pipelining_still_work(edge_http):
    one = b"POST /a HTTP/1.1\r\n" + HOST + b"Content-Length: 2\r\n\r\nhi"
    last = b"GET /b HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
    answer = await edge_http.exchange(one + one + last)
    assert answer.count(b"HTTP/1.1 200") == 3
    assert [h.url for h in edge_http.worker.heads] == [
        "http://api.localhost/a",
        "http://api.localhost/a",
        "http://api.localhost/b",
    ]


async def test_http10_streams_until_close(edge_http):
    answer = await edge_http.exchange(b"GET /sse HTTP/1.0\r\n" + HOST + b"\r\n")
    assert _status(answer) == 200 and answer.endswith(b"data: 2\n\n")
    assert b"transfer-encoding" not in answer.lower()
