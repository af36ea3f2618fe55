"""The edge router against a worker played by a FrameServer in this process (no processes)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.deploy.router import Router
from wranglerpy.deploy.routes import build_table
from wranglerpy.host.pool import WorkerPool
from wranglerpy.logs.hub import LogHub
from wranglerpy.runtime.latency import SMART
from wranglerpy.runtime.spec import WorkerSpec
from wranglerpy.wire import frames
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import FetchHead, ResponseHead
from wranglerpy.wire.server import Call, FrameServer


@dataclass
class Target:
    client: FrameClient
    pool: WorkerPool


class Worker:
    def __init__(self) -> None:
        self.heads: list[FetchHead] = []
        self.inflight_seen: list[int] = []
        self.stream_closed = asyncio.Event()
        self.pool: WorkerPool | None = None

    async def fetch(self, head: FetchHead, call: Call) -> None:
        self.heads.append(head)
        assert self.pool is not None
        self.inflight_seen.append(self.pool.inflight)
        body = b"".join([c async for c in call.body()])
        if head.url.endswith("/sse"):
            await call.respond(
                ResponseHead(200, [(b"content-type", b"text/event-stream")]), stream=self._events()
            )
            return
        await call.respond(
            ResponseHead(200, [(b"x-got", str(len(body)).encode())]), b"hello " + body
        )

    async def _events(self) -> AsyncIterator[bytes]:
        try:
            for n in range(3):
                yield b"data: %d\n\n" % n
        finally:
            self.stream_closed.set()


@pytest.fixture
async def edge():
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
    router = Router(lambda name, *_headers: targets.get(name))
    router.table = build_table({"api": (True, ()), "hidden": (False, ())})
    router.internal = {"hidden"}
    listener = socket.create_server(("127.0.0.1", 0))
    await router.start(listener)
    port = listener.getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        yield client, worker, targets
    await router.close()
    targets["api"].client.close()
    await server.close(grace=1.0)
    shutil.rmtree(folder, ignore_errors=True)


async def test_a_request_reaches_its_worker_as_a_fetch_frame(edge):
    client, worker, _ = edge
    response = await client.post(
        "/p?q=1", headers={"host": "api.localhost", "x-a": "1"}, content=b"body"
    )
    assert response.status_code == 200 and response.text == "hello body"
    (head,) = worker.heads
    assert head.KIND == frames.FETCH and head.method == "POST"
    assert head.url == "http://api.localhost/p?q=1" and head.client == "127.0.0.1"
    headers = dict(head.headers)
    assert headers[b"x-a"] == b"1" and headers[b"cf-connecting-ip"] == b"127.0.0.1"
    assert b"host" not in headers and b"content-length" not in headers
    assert worker.inflight_seen == [1]  # counted while in flight, for draining
    assert edge[2]["api"].pool.inflight == 0


async def test_simulated_latency_waits_the_client_leg_before_the_worker_is_called(
    edge, monkeypatch, tmp_path
):
    """--simulate-latency: the router adds the model's client leg (runtime/latency.py) to each
    request, read from the version's spec; nothing waits without a model."""
    client, worker, targets = edge
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, *args: object) -> None:
        slept.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    await client.get("/", headers={"host": "api.localhost"})
    assert SMART.client_ms / 1000 not in slept
    config = WorkerConfig(name="api", config_path=tmp_path / "wrangler.toml", main=None)
    targets["api"].pool.spec = WorkerSpec(config, tmp_path, tmp_path, latency=SMART)
    response = await client.get("/", headers={"host": "api.localhost"})
    assert response.status_code == 200 and len(worker.heads) == 2
    assert SMART.client_ms / 1000 in slept


async def test_a_client_cannot_claim_another_address(edge):
    client, worker, _ = edge
    await client.get("/", headers={"host": "api.localhost", "cf-connecting-ip": "6.6.6.6"})
    values = [v for k, v in worker.heads[0].headers if k == b"cf-connecting-ip"]
    assert values == [b"127.0.0.1"]


async def test_an_unknown_host_is_404_without_listing_the_deployed_ones(edge):
    """Issue 18 finding 15: the 404 must not map every deployed host for a stranger."""
    client, worker, _ = edge
    response = await client.get("/", headers={"host": "nobody.localhost"})
    assert response.status_code == 404
    assert "nobody.localhost" in response.json()["error"]
    assert "api.localhost" not in response.text and "hosts" not in response.json()
    assert worker.heads == []


async def test_an_internal_worker_says_it_is_reachable_only_by_binding(edge):
    client, _, _ = edge
    response = await client.get("/", headers={"host": "hidden.localhost"})
    assert response.status_code == 404 and "internal" in response.json()["error"]


async def test_the_scheduled_test_path_is_not_public(edge):
    client, worker, _ = edge
    response = await client.get("/cdn-cgi/handler/scheduled", headers={"host": "api.localhost"})
    assert response.status_code == 404 and worker.heads == []


async def test_a_stream_is_relayed_chunked(edge):
    client, worker, _ = edge
    async with client.stream("GET", "/sse", headers={"host": "api.localhost"}) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        text = "".join([chunk async for chunk in response.aiter_text()])
    assert text == "data: 0\n\ndata: 1\n\ndata: 2\n\n"
    await asyncio.wait_for(worker.stream_closed.wait(), 5)


async def test_a_worker_that_is_not_reachable_is_502(edge):
    client, _, targets = edge
    targets["api"].client = FrameClient("/nonexistent/w.sock")
    response = await client.get("/", headers={"host": "api.localhost"})
    assert response.status_code == 502
