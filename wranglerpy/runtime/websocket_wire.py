"""WebSockets over the wire: the edge router's client connection to a worker process.

The router keeps the client's WebSocket (framing with ``wsproto``) and relays the handshake
as a ``WebSocketHead`` call. The worker answers like a fetch; a 101 with a ``webSocket``
keeps both bodies open, one DATA frame per message (``frames.WebSocketHead``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from wranglerpy.runtime import tracing
from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.pumps import run_pumps
from wranglerpy.runtime.request_response import Request
from wranglerpy.runtime.websocket import Item, WebSocket
from wranglerpy.runtime.websocket_sender import EagerSender
from wranglerpy.wire import frames
from wranglerpy.wire.frames import ResponseHead, WebSocketHead

if TYPE_CHECKING:
    from wranglerpy.runtime.app import WorkerApp
    from wranglerpy.wire.client import FrameClient
    from wranglerpy.wire.server import Call

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# --- the worker's side ------------------------------------------------------------------


async def serve(app: WorkerApp, head: WebSocketHead, call: Call) -> None:
    headers = Headers.from_raw(head.headers)
    event = app.begin(
        trace=head.trace or tracing.new_trace_id(),
        method=head.method,
        url=head.url,
        headers=headers,
        client=head.client,
    )
    ctx = app.new_context()
    try:
        response = await app.route(Request(head.url, headers=headers), ctx, event)
        event["status"] = response.status
    finally:
        app.finish(event)
    await answer(response, call)
    await ctx.drain()


async def answer(response: Any, call: Call) -> None:
    """Answer a WebSocketHead call with ``response``: a 101 with a ``webSocket`` keeps both
    bodies open and couples that socket to them; anything else is a plain answer."""
    client = getattr(response, "webSocket", None)
    if response.status != 101 or not isinstance(client, WebSocket):
        body = await response.bytes() if response.has_body() else b""
        await call.respond(ResponseHead(response.status, response.headers.raw()), body)
        return
    # The 101, then one DATA frame per message, written inside ws.send() by the sender dev's
    # ASGI connections use (no queue and no pump task per socket); the close frame ends the body.
    call.answered = True
    call.writer.write(ResponseHead(101, response.headers.raw(), buffered=False).encode())
    sender = EagerSender(_writes(call.writer), _data_frame)
    client.couple(sender.push)
    sender.start()
    try:
        async for chunk in call.body():
            client.from_network(tuple(frames.loads(chunk)))
    except ConnectionError:
        pass  # the router left mid-socket
    if client.readyState != 3:
        client.from_network(("close", 1006, "", False))
    # The answer lasts until the worker's end closes, or the router leaves.
    waits = {asyncio.ensure_future(call.gone.wait()), asyncio.ensure_future(sender.closed.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        await sender.flushed()
    finally:
        for wait in waits:
            wait.cancel()
        await sender.stop()


def _data_frame(item: Item) -> bytes | None:
    """An outgoing item as its DATA frame; the close also ends the answer's body."""
    if item[0] == "message":
        return frames.frame(frames.DATA, frames.dumps(list(item)))
    if item[0] == "close":
        return frames.frame(frames.DATA, frames.dumps(list(item))) + frames.END_FRAME
    return None


def _writes(writer: asyncio.StreamWriter) -> Callable[[bytes], Awaitable[None]]:
    async def send(data: bytes) -> None:
        writer.write(data)  # drain() suspends only when the router reads slowly
        await writer.drain()

    return send


async def connect_remote(client: FrameClient, head: WebSocketHead) -> Any:
    """A WebSocket upgrade answered by another process (the owner of a Durable Object): the
    local response's ``webSocket`` is the near end of a pair bridged to the remote one."""
    from wranglerpy.runtime.request_response import Response
    from wranglerpy.runtime.websocket import WebSocketPair

    to_remote: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def upload() -> AsyncIterator[bytes]:
        while (chunk := await to_remote.get()) is not None:
            yield chunk

    remote = await client.fetch(head, stream=upload())
    if remote.head.status != 101:
        to_remote.put_nowait(None)
        body = remote.body if remote.body is not None else await remote.read_all()
        return Response(body or None, status=remote.head.status, headers=remote.head.headers)
    near, far = WebSocketPair.new().object_values()
    far.accept()

    def forward(event: Any) -> None:
        data = event.data if isinstance(event.data, str) else bytes(event.data)
        to_remote.put_nowait(frames.dumps(["message", data]))

    def closed(event: Any) -> None:
        to_remote.put_nowait(frames.dumps(["close", event.code, event.reason, event.wasClean]))
        to_remote.put_nowait(None)

    far.addEventListener("message", forward)
    far.addEventListener("close", closed)

    async def pump() -> None:
        try:
            async for chunk in remote.chunks():
                item = frames.loads(chunk)
                if item[0] == "message":
                    far.send(item[1])
                elif item[0] == "close":
                    far.close(item[1] if item[1] not in (1005, 1006) else None, item[2] or None)
                    return
        finally:
            remote.close()

    task = asyncio.ensure_future(pump())
    _bridges.add(task)
    task.add_done_callback(_bridges.discard)
    return Response(None, status=101, headers=remote.head.headers, web_socket=near)


_bridges: set[asyncio.Task[Any]] = set()


# --- the router's side ------------------------------------------------------------------


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()


async def relay(
    client: FrameClient,
    head: WebSocketHead,
    key: str,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Relay one client WebSocket to the worker until either side closes."""
    from wsproto.connection import Connection, ConnectionType
    from wsproto.events import BytesMessage, CloseConnection, Message, Ping, TextMessage

    to_worker: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def upload() -> AsyncIterator[bytes]:
        while (chunk := await to_worker.get()) is not None:
            yield chunk

    answer = await client.fetch(head, stream=upload())
    status = answer.head.status
    if status != 101:
        body = answer.body if answer.body is not None else await answer.read_all()
        writer.write(
            f"HTTP/1.1 {status} Refused\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        to_worker.put_nowait(None)
        answer.close()
        return
    lines = ["HTTP/1.1 101 Switching Protocols", "upgrade: websocket", "connection: Upgrade"]
    lines.append(f"sec-websocket-accept: {accept_key(key)}")
    for name, value in answer.head.headers:
        if name.lower() == b"sec-websocket-protocol":
            lines.append(f"sec-websocket-protocol: {value.decode('latin-1')}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()
    ws = Connection(ConnectionType.SERVER)

    async def from_client() -> None:
        parts: list[Any] = []
        try:
            while data := await reader.read(65536):
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, (TextMessage, BytesMessage)):
                        parts.append(event.data)  # a fragmented message arrives in parts
                        if event.message_finished:
                            payload: Any = (
                                "".join(parts)
                                if isinstance(event, TextMessage)
                                else b"".join(parts)
                            )
                            parts.clear()
                            to_worker.put_nowait(frames.dumps(["message", payload]))
                    elif isinstance(event, Ping):
                        writer.write(ws.send(event.response()))
                    elif isinstance(event, CloseConnection):
                        to_worker.put_nowait(
                            frames.dumps(["close", event.code, event.reason or "", True])
                        )
                        return
            to_worker.put_nowait(frames.dumps(["close", 1006, "", False]))
        finally:
            to_worker.put_nowait(None)

    async def to_client() -> None:
        async for chunk in answer.chunks():
            item = frames.loads(chunk)
            if item[0] == "message":
                writer.write(ws.send(Message(data=item[1])))
            elif item[0] == "close":
                code = 1000 if item[1] == 1005 else item[1]
                writer.write(ws.send(CloseConnection(code=code, reason=item[2] or None)))
                await writer.drain()
                return
            await writer.drain()

    try:
        await run_pumps(from_client(), to_client())
    finally:
        answer.close()
