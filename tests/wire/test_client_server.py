"""FrameClient against FrameServer on a real unix socket, with handlers written for the test."""

import asyncio
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from wranglerpy.wire import frames
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import FetchHead, ResponseHead, Result, RpcHead
from wranglerpy.wire.server import Call, FrameServer


class Worker:
    """Handlers of a pretend worker, recording what they saw."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.stream_stopped = asyncio.Event()
        self.release = asyncio.Event()

    async def fetch(self, head: FetchHead, call: Call) -> None:
        if head.url.endswith("/stream"):
            await call.respond(ResponseHead(200), stream=self._endless())
            return
        body = b"".join([chunk async for chunk in call.body()])
        self.bodies.append(body)
        await call.respond(ResponseHead(201, [(b"x-len", str(len(body)).encode())]), body)

    async def _endless(self) -> AsyncIterator[bytes]:
        try:
            n = 0
            while True:
                yield b"tick %d\n" % n
                n += 1
                await self.release.wait()
        finally:
            self.stream_stopped.set()

    async def rpc(self, head: RpcHead, call: Call) -> None:
        if head.method == "boom":
            raise LookupError("no such thing")
        call.reply(Result(True, [head.method, head.args, head.caller]))


@pytest.fixture
async def served():
    folder = Path(tempfile.mkdtemp(prefix="wpy-", dir="/tmp"))
    path = str(folder / "w.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(8)
    worker = Worker()
    server = FrameServer({frames.FETCH: worker.fetch, frames.RPC: worker.rpc}, clock=lambda: 100.0)
    await server.start(sock)
    client = FrameClient(path)
    yield worker, server, client
    client.close()
    await server.close(grace=1.0)
    shutil.rmtree(folder, ignore_errors=True)


async def test_a_buffered_fetch_is_read_in_full(served):
    worker, _, client = served
    answer = await client.fetch(FetchHead(method="POST", url="http://w/"), b"hello")
    assert answer.head.status == 201 and answer.body == b"hello"
    assert dict(answer.head.headers)[b"x-len"] == b"5"


async def test_a_streamed_upload_arrives_whole(served):
    worker, _, client = served

    async def upload() -> AsyncIterator[bytes]:
        for part in (b"a" * 70_000, b"b", b"c" * 10):
            yield part

    answer = await client.fetch(FetchHead(method="PUT", url="http://w/"), stream=upload())
    assert answer.body == b"a" * 70_000 + b"b" + b"c" * 10


async def test_a_stream_arrives_chunk_by_chunk_and_stops_when_the_caller_leaves(served):
    worker, _, client = served
    answer = await client.fetch(FetchHead(url="http://w/stream"))
    assert answer.body is None and answer.head.buffered is False
    chunks = answer.chunks()
    assert await chunks.__anext__() == b"tick 0\n"
    await chunks.aclose()  # the caller goes away mid-stream
    await asyncio.wait_for(worker.stream_stopped.wait(), 10)


async def test_rpc_values_and_remote_errors(served):
    _, _, client = served
    result = await client.call(RpcHead(method="m", args=[b"\x00", 2**90], caller="api"))
    assert result.value == ["m", [b"\x00", 2**90], "api"]
    error = await client.call(RpcHead(method="boom"))
    assert (error.ok, error.error_name, error.error_message) == (
        False,
        "LookupError",
        "no such thing",
    )


async def test_a_connection_serves_call_after_call(served):
    _, _, client = served
    for n in range(3):
        assert (await client.call(RpcHead(method=f"m{n}"))).value[0] == f"m{n}"
    assert len(client._idle) == 1


async def test_a_call_past_its_deadline_is_refused_not_run(served):
    worker, _, client = served
    late = await client.call(RpcHead(method="m", deadline=99.0))  # the server's clock says 100
    assert (late.ok, late.error_name) == (False, "TimeoutError")
    answer = await client.fetch(FetchHead(method="POST", url="http://w/", deadline=99.0), b"x")
    assert answer.head.status == 504 and worker.bodies == []


async def test_a_kind_without_a_handler_is_an_error_answer(served):
    _, _, client = served
    result = await client.call(frames.ScheduledHead(cron="* * * * *"))
    assert result.ok is False and "does not serve" in result.error_message


async def test_a_pooled_connection_the_worker_closed_is_retried_once(served):
    _, server, client = served
    await client.call(RpcHead(method="m"))
    (conn,) = client._idle
    # The worker restarts: its end of the idle connection goes away.
    for writer in list(server._idle.values()):
        writer.close()
    await asyncio.sleep(0)  # let the close reach the socket (no timing: one loop turn)
    result = await client.call(RpcHead(method="again"))
    assert result.value[0] == "again"
    assert conn not in client._idle


async def test_an_unreachable_worker_is_an_os_error(tmp_path):
    client = FrameClient(str(tmp_path / "nobody.sock"))
    with pytest.raises(OSError):
        await client.call(RpcHead(method="m"))
