"""dev's worker HTTP server (uvicorn with wranglerpy's guards), in-process, over real sockets:
the limits uvicorn lacks (issue 18, finding 7) and the reload handover (finding 10)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from tests.waits import SAFETY_NET, await_until
from wranglerpy.host.http_limits import HttpLimits
from wranglerpy.host.http_server import OneWrite, serve
from wranglerpy.runtime.child import StopRequest


@dataclass
class Seen:
    bodies: list[bytes] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)  # requests whose body was cut short
    closes: asyncio.Queue[tuple[int, str]] = field(default_factory=asyncio.Queue)


def make_app(seen: Seen):
    async def app(scope, receive, send):
        if scope["type"] == "websocket":
            assert (await receive())["type"] == "websocket.connect"
            await send({"type": "websocket.accept"})
            message = await receive()
            assert message["type"] == "websocket.disconnect"
            seen.closes.put_nowait((message["code"], message.get("reason") or ""))
            return
        assert scope["type"] == "http"  # lifespan: "unsupported", as uvicorn's auto mode allows
        body = b""
        if scope["path"] == "/hold":  # one chunk, then nothing until the client leaves
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"first", "more_body": True})
            while (await receive())["type"] != "http.disconnect":
                pass
            seen.cut.append("/hold")
            return
        if scope["path"] == "/endless":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            while True:
                await send({"type": "http.response.body", "body": b"tick", "more_body": True})
                await asyncio.sleep(0.01)
        while scope["path"] != "/early":  # /early answers without reading the body
            message = await receive()
            if message["type"] == "http.disconnect":
                seen.cut.append(scope["path"])
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.bodies.append(body)
        answer = b"ok " + body
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return app


@dataclass
class Running:
    port: int
    listener: socket.socket
    stopping: StopRequest
    task: asyncio.Task[None]
    seen: Seen


@pytest.fixture
async def server(request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    values = getattr(request, "param", {})
    drain = values.pop("drain", 60.0)  # far above any wait: finishing early proves a settle
    limits = HttpLimits().with_values(values, "test")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    seen = Seen()
    stopping = StopRequest()
    task = asyncio.ensure_future(
        serve(make_app(seen), listener.dup().detach(), stopping, limits, drain)
    )
    running = Running(listener.getsockname()[1], listener, stopping, task, seen)
    await _until_answering(running.port)
    yield running
    stopping.request()
    await asyncio.wait_for(task, SAFETY_NET)
    listener.close()


async def _until_answering(port: int) -> None:
    async def answered() -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.write(b"GET /ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        await reader.read()
        writer.close()
        return True

    await await_until(answered, f"the server on port {port} to answer")


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SAFETY_NET)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


GET = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"


async def test_the_listening_socket_gets_tcp_nodelay(server: Running) -> None:
    # Inherited by accepted sockets: a head and a body written apart must not wait ~40 ms
    # on the client's delayed ACK.
    assert server.listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


async def test_on_handover_a_keep_alive_client_gets_one_more_answer_with_close(
    server: Running,
) -> None:
    reader, writer = await connect(server.port)
    writer.write(GET)
    status, headers, _ = await read_response(reader)
    assert status == 200 and headers.get("connection") != "close"
    server.stopping.request(handover=True)
    await asyncio.wait_for(server.stopping.accepting_stopped.wait(), SAFETY_NET)
    assert not server.task.done()  # the open keep-alive connection holds the handover
    writer.write(GET)
    status, headers, body = await read_response(reader)
    assert (status, headers.get("connection"), body) == (200, "close", b"ok ")
    assert await reader.read() == b""
    writer.close()
    # Every connection answered: the process stops without waiting for its drain time (60 s).
    await asyncio.wait_for(server.task, SAFETY_NET)


async def test_on_handover_a_request_in_flight_is_answered_with_close(server: Running) -> None:
    reader, writer = await connect(server.port)
    writer.write(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nab")
    server.stopping.request(handover=True)
    await asyncio.wait_for(server.stopping.accepting_stopped.wait(), SAFETY_NET)
    writer.write(b"cd")
    status, headers, body = await read_response(reader)
    assert (status, headers.get("connection"), body) == (200, "close", b"ok abcd")
    writer.close()
    await asyncio.wait_for(server.task, SAFETY_NET)


async def test_a_plain_stop_closes_idle_connections_at_once(server: Running) -> None:
    reader, writer = await connect(server.port)
    writer.write(GET)
    assert (await read_response(reader))[0] == 200
    server.stopping.request()
    assert await asyncio.wait_for(reader.read(), SAFETY_NET) == b""
    writer.close()
    await asyncio.wait_for(server.task, SAFETY_NET)


async def test_a_plain_stop_ends_a_handover(server: Running) -> None:
    reader, writer = await connect(server.port)
    writer.write(GET)
    await read_response(reader)
    server.stopping.request(handover=True)
    await asyncio.wait_for(server.stopping.accepting_stopped.wait(), SAFETY_NET)
    server.stopping.request()  # Ctrl-C during a reload
    await asyncio.wait_for(server.task, SAFETY_NET)
    assert await reader.read() == b""
    writer.close()


@pytest.mark.parametrize("server", [{"max_connections": 2}], indirect=True)
async def test_connections_over_the_limit_get_503(server: Running) -> None:
    held = []
    for _ in range(2):
        reader, writer = await connect(server.port)
        writer.write(GET)
        assert (await read_response(reader))[0] == 200
        held.append(writer)
    reader, writer = await connect(server.port)
    writer.write(GET)
    status, headers, body = await read_response(reader)
    assert status == 503 and headers["connection"] == "close"
    assert b"too many connections" in body
    writer.close()
    held.pop().close()

    async def served() -> bool:
        reader, writer = await connect(server.port)
        writer.write(GET)
        status = (await read_response(reader))[0]
        writer.close()
        return status == 200

    # a freed place is taken again, once the server has seen the close
    await await_until(served, "the freed place to be taken again")
    for writer in held:
        writer.close()


@pytest.mark.parametrize("server", [{"idle_timeout": 0.2}], indirect=True)
async def test_a_connection_that_never_speaks_is_closed(server: Running) -> None:
    reader, writer = await connect(server.port)
    assert await asyncio.wait_for(reader.read(), SAFETY_NET) == b""
    writer.close()


@pytest.mark.parametrize("server", [{"header_timeout": 0.2}], indirect=True)
async def test_a_head_that_never_ends_gets_408(server: Running) -> None:
    reader, writer = await connect(server.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    status, headers, body = await read_response(reader)
    assert status == 408 and b"head" in body
    assert await reader.read() == b""
    writer.close()


@pytest.mark.parametrize("server", [{"max_head": 1024}], indirect=True)
async def test_a_head_over_max_head_gets_431(server: Running) -> None:
    reader, writer = await connect(server.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n")
    assert (await read_response(reader))[0] == 431
    writer.close()
    reader, writer = await connect(server.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Endless: " + b"a" * 2000)
    assert (await read_response(reader))[0] == 431  # never a complete line: still bounded
    writer.close()
    assert server.seen.bodies == [b""]  # only the fixture's readiness request got through


@pytest.mark.parametrize("server", [{"body_timeout": 0.2}], indirect=True)
async def test_a_body_that_stops_arriving_reaches_the_app_cut_short(server: Running) -> None:
    reader, writer = await connect(server.port)
    writer.write(b"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n12345")
    status, _, body = await read_response(reader)
    assert status == 408 and b"body" in body
    await await_until(lambda: "/upload" in server.seen.cut, "the app to see the cut body")
    assert b"12345" not in server.seen.bodies
    writer.close()


async def test_an_answer_before_100_continue_closes_the_connection(server: Running) -> None:
    """The client may never send the body it announced: what follows cannot be parsed (boto3's
    uploads answered early made uvicorn read the next request as a body, a 400)."""
    reader, writer = await connect(server.port)
    writer.write(
        b"PUT /early HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
        b"Expect: 100-continue\r\n\r\n"
    )
    status, headers, _ = await read_response(reader)
    assert (status, headers.get("connection")) == (200, "close")
    assert await reader.read() == b""
    writer.close()


@pytest.mark.parametrize("server", [{"drain": 1.0}], indirect=True)
async def test_a_stream_outliving_the_drain_time_is_cancelled_quietly(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await connect(server.port)
    writer.write(b"GET /endless HTTP/1.1\r\nHost: localhost\r\n\r\n")
    await reader.readuntil(b"tick")
    server.stopping.request()
    await asyncio.wait_for(server.task, SAFETY_NET)
    while await reader.read(65536):
        pass  # the stream ends: its connection closes
    writer.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_body_sent_after_an_early_answer_is_not_taken_for_a_head(server: Running) -> None:
    """A worker may answer without reading the body (a 401 to an upload): the rest of the body
    still arrives, and is neither a head (431 past max_head) nor the next request."""
    reader, writer = await connect(server.port)
    writer.write(b"PUT /early HTTP/1.1\r\nHost: localhost\r\nContent-Length: 40000\r\n\r\n")
    assert (await read_response(reader))[0] == 200
    writer.write(b"x" * 40000 + GET)
    status, _, body = await read_response(reader)
    assert (status, body) == (200, b"ok ")
    writer.close()


UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
)


async def _upgrade(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await connect(port)
    writer.write(UPGRADE)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SAFETY_NET)
    assert head.startswith(b"HTTP/1.1 101")
    return reader, writer, head.lower()


async def test_websocket_deflate_has_no_context_takeover_and_a_drop_is_1006(
    server: Running,
) -> None:
    """Hibernated sockets stay small (no compressor kept between messages); a connection
    dropped without a close frame is 1006 for the worker, as on Workers (uvicorn says 1005)."""
    reader, writer, head = await _upgrade(server.port)
    assert b"server_no_context_takeover" in head and b"client_no_context_takeover" in head
    writer.close()
    assert await asyncio.wait_for(server.seen.closes.get(), SAFETY_NET) == (1006, "")


async def test_a_websocket_close_from_the_client_keeps_its_code_and_reason(
    server: Running,
) -> None:
    reader, writer, _ = await _upgrade(server.port)
    payload = (4001).to_bytes(2, "big") + b"bye"
    writer.write(bytes([0x88, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)  # mask 0: as is
    assert await asyncio.wait_for(server.seen.closes.get(), SAFETY_NET) == (4001, "bye")
    writer.close()


async def test_a_client_that_half_closes_after_its_request_gets_the_answer(
    server: Running,
) -> None:
    """uvicorn closes on any end of input; a whole request before it is still answered (the
    edge answered so before it moved onto this server), then the connection closes."""
    reader, writer = await connect(server.port)
    writer.write(b"POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nhi")
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(-1), SAFETY_NET)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"\r\n\r\nok hi")


async def test_a_half_close_within_a_body_is_the_client_leaving(server: Running) -> None:
    reader, writer = await connect(server.port)
    writer.write(b"POST /cut HTTP/1.1\r\nHost: localhost\r\nContent-Length: 9\r\n\r\nhi")
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(-1), SAFETY_NET) == b""
    writer.close()
    assert server.seen.cut == ["/cut"] and b"hi" not in server.seen.bodies


@pytest.mark.parametrize("server", [{"drain": 0.5}], indirect=True)  # /endless never ends
async def test_an_http10_stream_is_not_chunked_and_ends_with_the_connection(
    server: Running,
) -> None:
    """RFC 9112 7.1: chunked coding is HTTP/1.1's; an HTTP/1.0 answer of unknown length ends
    when the server closes (uvicorn alone would chunk it)."""
    reader, writer = await connect(server.port)
    writer.write(b"GET /endless HTTP/1.0\r\nHost: localhost\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SAFETY_NET)
    assert await asyncio.wait_for(reader.readexactly(8), SAFETY_NET) == b"ticktick"
    writer.close()
    assert b"transfer-encoding" not in head.lower() and b"connection: close" in head.lower()


class RecordingTransport:
    """The seam under a request's writes: what reached the socket, write by write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _cycle(method: str = "GET") -> tuple[RequestResponseCycle, RecordingTransport]:
    transport = RecordingTransport()
    cycle = RequestResponseCycle(
        scope={"method": method, "http_version": "1.1"},  # type: ignore[typeddict-item]
        transport=transport,  # type: ignore[arg-type]
        flow=FlowControl(transport),  # type: ignore[arg-type]
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test"),
        access_log=False,
        default_headers=[],
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=True,
        on_response=lambda: None,
    )
    cycle.transport = OneWrite(transport, cycle)  # type: ignore[assignment]
    return cycle, transport


async def test_an_answer_with_a_length_leaves_in_one_write() -> None:
    cycle, transport = _cycle()
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    await cycle.send(start)  # type: ignore[arg-type]
    assert transport.writes == []  # the head waits for the body
    await cycle.send({"type": "http.response.body", "body": b"ok"})
    (write,) = transport.writes
    assert write.startswith(b"HTTP/1.1 200 OK\r\n") and write.endswith(b"\r\n\r\nok")


@pytest.mark.parametrize(
    ("method", "headers"),
    [("HEAD", [(b"content-length", b"2")]), ("GET", []), ("GET", [(b"content-length", b"0")])],
)
async def test_a_head_with_no_body_to_wait_for_is_written_at_once(method, headers) -> None:
    """HEAD, a streamed (chunked) answer, an empty one: the head leaves as it is sent."""
    cycle, transport = _cycle(method)
    await cycle.send({"type": "http.response.start", "status": 200, "headers": headers})
    assert len(transport.writes) == 1 and transport.writes[0].endswith(b"\r\n\r\n")


async def test_a_held_head_is_written_before_the_connection_closes() -> None:
    cycle, transport = _cycle()
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"9")]}
    await cycle.send(start)  # type: ignore[arg-type]
    cycle.transport.close()  # the app failed after the head: uvicorn closes the connection
    assert transport.closed and transport.writes[0].startswith(b"HTTP/1.1 200 OK")


async def test_a_malformed_request_leaves_no_log_line(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    """uvicorn warns once per malformed request: a client sending them would fill the edge's
    log (or dev's terminal) with lines of its choosing. Only the 400 answers it."""
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            reader, writer = await connect(server.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n")
            assert (await read_response(reader))[0] == 400
            writer.close()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("uvicorn")] == []


async def test_a_client_leaving_a_quiet_stream_is_seen_at_once(server: Running) -> None:
    """Closing the connection once the answer began is leaving, even with nothing more to
    write yet (an SSE stream between events): the app hears it, so the stream, and whatever
    binding call feeds it, is cancelled now rather than at its next write."""
    reader, writer = await connect(server.port)
    writer.write(b"GET /hold HTTP/1.1\r\nHost: localhost\r\n\r\n")
    await asyncio.wait_for(reader.readuntil(b"first"), SAFETY_NET)
    writer.close()
    await await_until(lambda: "/hold" in server.seen.cut, "the app to hear the client leave")
