"""When a call is sent again: only when it provably did not reach the worker's handler.

A draining frame server answers NOT_TAKEN on connections between calls; the client then sends
the call again on a fresh connection (which reaches the next process on the shared socket). A
connection that closes after the call was sent is ``CallLost``, never a second run: Cloudflare
does not replay a request into a worker that received it. workerd classifies retries of
disconnected calls only for Durable Objects (cloudflare/workerd ``src/workerd/api/http.c++:1499-1503``
at 6552d99), and there a failure after delivery "must not be retried as a fresh delivery"
(``src/workerd/io/worker-entrypoint.c++:575-582``).

Everything here is one event loop and real unix sockets; a "process" is a ``FrameServer`` on
its own dup of one listening socket, as a reload's old and new worker processes share theirs.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.waits import await_until
from wranglerpy.wire import frames
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import CallLost, FetchHead, NotTaken, ResponseHead, Result, RpcHead
from wranglerpy.wire.server import Call, FrameServer


class Process:
    """A pretend worker process: counts the calls its handlers ran."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ran: list[str] = []
        self.bodies: list[bytes] = []
        self.body_started = asyncio.Event()
        self.server = FrameServer({frames.RPC: self.rpc, frames.FETCH: self.fetch})

    async def rpc(self, head: RpcHead, call: Call) -> None:
        self.ran.append(head.method)
        if head.method == "die":
            call.writer.transport.abort()  # the process dies mid-call: no answer, ever
            return
        call.reply(Result(True, self.name))

    async def fetch(self, head: FetchHead, call: Call) -> None:
        self.ran.append(head.url)
        chunks = []
        async for chunk in call.body():
            chunks.append(chunk)
            self.body_started.set()
        body = b"".join(chunks)
        self.bodies.append(body)
        if head.url.endswith("/die"):
            call.writer.transport.abort()
            return
        await call.respond(ResponseHead(200, []), self.name.encode() + b":" + body)


@pytest.fixture
def listening() -> Iterator[tuple[str, socket.socket]]:
    folder = Path(tempfile.mkdtemp(prefix="wpy-", dir="/tmp"))
    path = str(folder / "w.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(8)
    yield path, sock
    sock.close()
    shutil.rmtree(folder, ignore_errors=True)


async def start(name: str, sock: socket.socket) -> Process:
    process = Process(name)
    await process.server.start(sock.dup())  # each process holds its own fd of the one socket
    return process


async def test_a_reload_refuses_pooled_calls_and_they_reach_the_new_process(listening):
    path, sock = listening
    old = await start("old", sock)
    client = FrameClient(path)
    assert (await client.call(RpcHead(method="a"))).value == "old"
    assert len(client._idle) == 1
    await old.server.close(grace=1.0)  # the old process drains: its pooled connection refused
    new = await start("new", sock)
    result = await client.call(RpcHead(method="b"))
    assert result.value == "new"
    assert old.ran == ["a"] and new.ran == ["b"]  # each call ran once, in one process
    client.close()
    await new.server.close(grace=1.0)


async def test_a_draining_server_answers_not_taken_to_a_call_on_a_pooled_connection(listening):
    """The frame itself, seen by a raw client: the refused call never reaches a handler."""
    path, sock = listening
    old = await start("old", sock)
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(RpcHead(method="first").encode())
    assert (await frames.read_frame(reader))[0] == frames.RESULT
    closing = asyncio.ensure_future(old.server.close(grace=1.0))
    writer.write(RpcHead(method="second").encode())
    assert await frames.read_frame(reader) == (frames.NOT_TAKEN, b"")
    with pytest.raises(frames.FrameError):
        await frames.read_frame(reader)  # then it closes
    await closing
    assert old.ran == ["first"]
    writer.close()


async def test_a_connection_accepted_before_the_drain_has_its_first_call_served(listening):
    path, sock = listening
    old = await start("old", sock)
    reader, writer = await asyncio.open_unix_connection(path)
    await await_until(lambda: old.server._connections, "the server accepts the connection")
    closing = asyncio.ensure_future(old.server.close(grace=5.0))
    await asyncio.sleep(0)  # the drain has begun
    writer.write(RpcHead(method="late").encode())
    kind, payload = await frames.read_frame(reader)
    assert (kind, Result.decode(payload).value) == (frames.RESULT, "old")
    # Its next call would not be run: the connection is refused once the answer is out.
    assert await frames.read_frame(reader) == (frames.NOT_TAKEN, b"")
    await closing
    assert old.ran == ["late"]
    writer.close()


async def test_not_taken_on_a_fresh_connection_is_sent_again_once_more(listening):
    """A process that accepted the connection but stops before reading the call."""
    path, sock = listening
    new: list[Process] = []

    async def stopping(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await frames.read_frame(reader)  # the call arrives; this process will not run it
        refusing.close()  # it stops accepting; the next process starts on the socket
        new.append(await start("new", sock))
        writer.write(frames.NOT_TAKEN_FRAME)
        writer.close()

    refusing = await asyncio.start_unix_server(stopping, sock=sock.dup())
    client = FrameClient(path)
    assert (await client.call(RpcHead(method="m"))).value == "new"
    assert new[0].ran == ["m"]
    client.close()
    await new[0].server.close(grace=1.0)


async def test_a_stream_already_being_sent_is_not_sent_twice(listening):
    path, sock = listening

    async def stopping(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await frames.read_frame(reader)
        await started.wait()  # the body has begun to go: it cannot be sent again
        writer.write(frames.NOT_TAKEN_FRAME)
        writer.close()

    started = asyncio.Event()
    pulled: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        for part in (b"one", b"two"):
            pulled.append(part)
            started.set()
            yield part

    refusing = await asyncio.start_unix_server(stopping, sock=sock.dup())
    client = FrameClient(path)
    with pytest.raises(NotTaken):
        await client.fetch(FetchHead(method="POST", url="http://w/"), stream=body())
    assert pulled[0] == b"one"  # read once, by the one attempt
    refusing.close()
    client.close()


async def test_a_stream_is_sent_again_whole_when_the_old_process_is_gone(listening):
    path, sock = listening
    old = await start("old", sock)
    client = FrameClient(path)
    await client.call(RpcHead(method="pool"))
    await old.server.close(grace=1.0)
    new = await start("new", sock)

    async def body() -> AsyncIterator[bytes]:
        for part in (b"a" * 70_000, b"b"):
            yield part

    answer = await client.fetch(FetchHead(method="PUT", url="http://w/"), stream=body())
    assert answer.body == b"new:" + b"a" * 70_000 + b"b"
    assert old.ran == ["pool"] and new.bodies == [b"a" * 70_000 + b"b"]
    client.close()
    await new.server.close(grace=1.0)


async def test_a_worker_dying_mid_rpc_is_an_error_and_runs_once(listening):
    path, sock = listening
    process = await start("w", sock)
    client = FrameClient(path)
    with pytest.raises(CallLost):
        await client.call(RpcHead(method="die"))
    assert process.ran == ["die"]  # not sent again
    assert (await client.call(RpcHead(method="after"))).value == "w"
    client.close()
    await process.server.close(grace=1.0)


async def test_a_worker_dying_mid_fetch_on_a_pooled_connection_runs_it_once(listening):
    path, sock = listening
    process = await start("w", sock)
    client = FrameClient(path)
    await client.fetch(FetchHead(url="http://w/warm"))  # the connection is pooled
    with pytest.raises(CallLost):
        await client.fetch(FetchHead(method="POST", url="http://w/die"), b"insert")
    assert process.ran == ["http://w/warm", "http://w/die"]
    assert process.bodies == [b"", b"insert"]
    client.close()
    await process.server.close(grace=1.0)


async def test_a_call_in_flight_when_the_drain_begins_gets_its_answer(listening):
    """Its body finished arriving after the drain began; the answer still goes out."""
    path, sock = listening
    process = await start("w", sock)
    client = FrameClient(path)
    more = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield b"first "
        await more.wait()
        yield b"last"

    answering = asyncio.ensure_future(
        client.fetch(FetchHead(method="POST", url="http://w/"), stream=body())
    )
    await process.body_started.wait()
    closing = asyncio.ensure_future(process.server.close(grace=5.0))
    await asyncio.sleep(0)  # the drain has begun
    more.set()
    answer = await answering
    assert answer.body == b"w:first last"
    await closing
    assert process.ran == ["http://w/"]
    client.close()


async def test_a_worker_that_died_between_calls_is_not_a_lost_call(listening):
    """Its end of the pooled connection is gone before the call is written: the send fails
    at once, nothing was delivered, and the call goes to a fresh connection."""
    path, sock = listening
    process = await start("w", sock)
    client = FrameClient(path)
    await client.call(RpcHead(method="a"))
    (conn,) = client._idle
    for writer in list(process.server._idle.values()):
        writer.transport.abort()  # as a SIGKILL would: no NOT_TAKEN
    await await_until(lambda: not process.server._idle, "the server's end closes")
    assert (await client.call(RpcHead(method="b"))).value == "w"
    assert process.ran == ["a", "b"]
    assert conn not in client._idle
    client.close()
    await process.server.close(grace=1.0)


class Lingering:
    """Handlers that answer, then go on working (``ctx.waitUntil``) until released."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ran: list[str] = []
        self.release = asyncio.Event()
        self.lingering = 0
        self.server = FrameServer({frames.RPC: self.rpc})

    async def rpc(self, head: RpcHead, call: Call) -> None:
        self.ran.append(head.method)
        call.reply(Result(True, self.name))
        self.lingering += 1
        try:
            await self.release.wait()  # the answer is out; the handler has not returned
        finally:
            self.lingering -= 1


async def test_a_call_may_follow_an_answered_one_whose_handler_still_works(listening):
    """A pooled connection is the caller's again once the answer is out, even while the
    handler drains its ``waitUntil`` work: the next call is served, not lost."""
    path, sock = listening
    process = Lingering("w")
    await process.server.start(sock.dup())
    client = FrameClient(path)
    assert (await client.call(RpcHead(method="a"))).value == "w"
    assert (await client.call(RpcHead(method="b"))).value == "w"
    assert process.ran == ["a", "b"] and process.lingering == 2
    assert len(client._idle) == 1  # one connection carried both
    process.release.set()
    client.close()
    await process.server.close(grace=5.0)
    assert process.lingering == 0


async def test_a_drain_refuses_a_connection_whose_handler_still_works_and_waits_for_it(
    listening,
):
    path, sock = listening
    old = Lingering("old")
    await old.server.start(sock.dup())
    client = FrameClient(path)
    assert (await client.call(RpcHead(method="a"))).value == "old"
    closing = asyncio.ensure_future(old.server.close(grace=30.0))
    await asyncio.sleep(0)  # the drain has begun
    new = await start("new", sock)
    assert (await client.call(RpcHead(method="b"))).value == "new"
    assert old.ran == ["a"] and new.ran == ["b"]
    assert not closing.done()  # the old process waits for its handler's work
    old.release.set()
    await closing
    assert old.lingering == 0
    client.close()
    await new.server.close(grace=1.0)


async def test_a_lingering_handler_ending_mid_call_does_not_make_the_connection_idle(listening):
    """Work after an answer ends while the next call on the connection is running: a drain
    then must not decline that connection mid-answer (the call's answer arrives whole)."""
    path, sock = listening
    gate = asyncio.Event()
    linger = asyncio.Event()
    first: list[asyncio.Task] = []

    async def rpc(head: RpcHead, call: Call) -> None:
        if head.method == "first":
            first.append(asyncio.current_task())
            call.reply(Result(True, "first"))
            await linger.wait()
            return
        await gate.wait()
        call.reply(Result(True, "second"))

    server = FrameServer({frames.RPC: rpc})
    await server.start(sock.dup())
    client = FrameClient(path)
    assert (await client.call(RpcHead(method="first"))).value == "first"
    second = asyncio.ensure_future(client.call(RpcHead(method="second")))
    await await_until(lambda: not server._idle, "the second call is read")
    linger.set()  # the first handler ends while the second call runs
    await first[0]  # (its done callbacks ran before this resumes)
    assert not server._idle
    closing = asyncio.ensure_future(server.close(grace=30.0))
    await asyncio.sleep(0)  # the drain has begun
    gate.set()
    assert (await second).value == "second"
    await closing
    client.close()
