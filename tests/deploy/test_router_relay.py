"""What the edge router relays between a client and a worker (played by a FrameServer in
this process), served by the host's HTTP server: request bodies that stream, answers that
stop when the client leaves, and WebSockets (accepted, echoed, refused)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.deploy.test_router import Target
from wranglerpy.deploy.router import BUFFER_LIMIT, Router
from wranglerpy.deploy.routes import build_table
from wranglerpy.host.pool import WorkerPool
from wranglerpy.logs.hub import LogHub
from wranglerpy.wire import frames
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import FetchHead, ResponseHead, WebSocketHead
from wranglerpy.wire.server import Call, FrameServer

SAFETY_NET = 20.0  # only a hung run reaches it
HOST = b"Host: api.localhost\r\n"


@dataclass
class Worker:
    started: asyncio.Event = field(default_factory=asyncio.Event)  # a fetch has its head
    cut: asyncio.Event = field(default_factory=asyncio.Event)  # ... and saw its body cut
    stream_closed: asyncio.Event = field(default_factory=asyncio.Event)
    handshakes: list[WebSocketHead] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)  # of the fetches
    closes: asyncio.Queue[list[object]] = field(default_factory=asyncio.Queue)

    async def fetch(self, head: FetchHead, call: Call) -> None:
        self.urls.append(head.url)
        self.started.set()
        if head.url.endswith("/endless"):
            await call.respond(ResponseHead(200, []), stream=self._endless())
            return
        try:
            size = sum([len(chunk) async for chunk in call.body()])
        except ConnectionError:
            self.cut.set()
            return
        await call.respond(ResponseHead(200, []), str(size).encode())

    async def _endless(self) -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"data: tick\n\n"
                await asyncio.sleep(0.01)
        finally:
            self.stream_closed.set()

    async def websocket(self, head: WebSocketHead, call: Call) -> None:
        self.handshakes.append(head)
        if head.url.endswith("/refuse"):
            headers = [(b"content-type", b"text/plain"), (b"x-why", b"no")]
            await call.respond(ResponseHead(403, headers), b"not you")
            return
        await call.respond(ResponseHead(101, []), stream=self._echo(call))

    async def _echo(self, call: Call) -> AsyncIterator[bytes]:
        async for chunk in call.body():
            item = frames.loads(chunk)
            if item[0] == "message":
                yield frames.dumps(["message", f"echo {item[1]}"])
            elif item[0] == "close":
                self.closes.put_nowait(list(item))
                yield frames.dumps(["close", 1000, "bye", True])
                return


@dataclass
class Edge:
    worker: Worker
    port: int


@pytest.fixture
async def edge() -> AsyncIterator[Edge]:
    folder = Path(tempfile.mkdtemp(prefix="wpy-", dir="/tmp"))
    path = str(folder / "w.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(8)
    worker = Worker()
    server = FrameServer({frames.FETCH: worker.fetch, frames.WEBSOCKET: worker.websocket})
    await server.start(sock)
    targets = {"api": Target(FrameClient(path), WorkerPool("api", [], LogHub()))}
    router = Router(lambda name, *_headers: targets.get(name))
    router.table = build_table({"api": (True, ())})
    listener = socket.create_server(("127.0.0.1", 0))
    await router.start(listener)
    yield Edge(worker, listener.getsockname()[1])
    await router.close()
    targets["api"].client.close()
    await server.close(grace=1.0)
    shutil.rmtree(folder, ignore_errors=True)


async def test_a_large_body_streams_to_the_worker_and_a_cut_reaches_it_as_an_error(edge):
    """Above BUFFER_LIMIT the worker is called before the body has arrived; when the client
    leaves mid-body, the worker's read fails (ConnectionError), never a short body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    size = 3 * BUFFER_LIMIT
    writer.write(b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n" % size)
    writer.write(b"x" * (2 * BUFFER_LIMIT))
    await writer.drain()
    await asyncio.wait_for(edge.worker.started.wait(), SAFETY_NET)  # a third still unsent
    writer.close()
    await asyncio.wait_for(edge.worker.cut.wait(), SAFETY_NET)


async def test_a_stream_stops_when_the_client_leaves(edge):
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    writer.write(b"GET /endless HTTP/1.1\r\n" + HOST + b"\r\n")
    await asyncio.wait_for(reader.readuntil(b"data: tick"), SAFETY_NET)
    writer.close()
    await asyncio.wait_for(edge.worker.stream_closed.wait(), SAFETY_NET)


async def test_a_client_that_half_closes_still_gets_its_answer(edge):
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    writer.write(b"POST /x HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n\r\nhello")
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(-1), SAFETY_NET)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"\r\n\r\n5")


async def test_a_websocket_is_relayed_both_ways(edge):
    url = "ws://api.localhost/chat?room=1"
    async with websockets.connect(url, host="127.0.0.1", port=edge.port) as ws:
        await ws.send("hi")
        assert await asyncio.wait_for(ws.recv(), SAFETY_NET) == "echo hi"
        await ws.close(4000, "done")
    (head,) = edge.worker.handshakes
    assert head.url == "http://api.localhost/chat?room=1"
    headers = dict(head.headers)
    assert headers[b"upgrade"] == b"websocket" and headers[b"cf-connecting-ip"] == b"127.0.0.1"
    assert await asyncio.wait_for(edge.worker.closes.get(), SAFETY_NET) == [
        "close",
        4000,
        "done",
        True,
    ]


async def test_a_refused_upgrade_reaches_the_client_with_its_status(edge):
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            "ws://api.localhost/refuse", host="127.0.0.1", port=edge.port
        ):
            pass
    response = refused.value.response
    assert response.status_code == 403 and response.body == b"not you"
    assert response.headers["x-why"] == "no"


async def test_an_upgrade_to_no_worker_is_404(edge):
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect("ws://nobody.localhost/", host="127.0.0.1", port=edge.port):
            pass
    assert refused.value.response.status_code == 404
    assert edge.worker.handshakes == []


async def test_an_upgrade_with_two_hosts_is_400(edge):
    url = f"ws://api.localhost:{edge.port}/"
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            url, host="127.0.0.1", port=edge.port, additional_headers={"host": "b.localhost"}
        ):
            pass
    assert refused.value.response.status_code == 400
    assert b"Host" in refused.value.response.body and edge.worker.handshakes == []


async def test_an_absolute_form_target_reaches_the_worker_as_its_path(edge):
    """RFC 9112 3.2.2: a server accepts ``GET http://host/path``; the worker's URL is the
    Host's with the target's path and query (the whole target appended made no URL)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    writer.write(b"GET http://api.localhost/p?q=1 HTTP/1.1\r\n" + HOST + b"\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SAFETY_NET)
    writer.close()
    assert head.startswith(b"HTTP/1.1 200 ")
    assert edge.worker.urls == ["http://api.localhost/p?q=1"]
