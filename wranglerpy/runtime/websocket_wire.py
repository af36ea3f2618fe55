"""WebSockets over the wire: the edge router's client connection to a worker process.

The router keeps the client's WebSocket (an ASGI ``websocket`` scope: the host's HTTP server
frames it) and relays the handshake as a ``WebSocketHead`` call. The worker answers like a
fetch; a 101 with a ``webSocket`` keeps both bodies open, one DATA frame per message
(``frames.WebSocketHead``).
"""

from __future__ import annotations

import asyncio
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


async def relay(client: FrameClient, head: WebSocketHead, receive: Any, send: Any) -> None:
    """Relay one client WebSocket (an ASGI ``websocket`` scope of the host's HTTP server) to
    the worker behind ``client`` until either side closes. A refused upgrade (any status but
    101) reaches the client as the worker's answer."""
    if (await receive())["type"] != "websocket.connect":
        return
    to_worker: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def upload() -> AsyncIterator[bytes]:
        while (chunk := await to_worker.get()) is not None:
            yield chunk

    try:
        answer = await client.fetch(head, stream=upload())
    except ConnectionError:
        await refuse(send, 502, [], b'{"error": "the worker is not reachable"}\n')
        return
    if answer.head.status != 101:
        to_worker.put_nowait(None)
        try:
            body = answer.body if answer.body is not None else await answer.read_all()
        finally:
            answer.close()
        await refuse(send, answer.head.status, answer.head.headers, body)
        return
    await send(accept(answer.head))

    async def from_client() -> None:
        try:
            while (item := client_item(await receive())) is not None:
                to_worker.put_nowait(item)
                if frames.loads(item)[0] == "close":
                    return
        finally:
            to_worker.put_nowait(None)

    try:
        await run_pumps(from_client(), to_client(answer.chunks(), send))
    finally:
        answer.close()


# --- what both relays of a client WebSocket (this router's and the Ray ingress') share -----


def accept(head: ResponseHead) -> dict[str, Any]:
    """The ASGI accept of a client WebSocket the worker took (its 101), with its subprotocol."""
    protocol = next(
        (v.decode("latin-1") for k, v in head.headers if k.lower() == b"sec-websocket-protocol"),
        None,
    )
    return {"type": "websocket.accept", "subprotocol": protocol}


def client_item(message: dict[str, Any]) -> bytes | None:
    """What an ASGI message from the client sends the worker: ``["message", data]``, or
    ``["close", code, reason, clean]`` at its end (1006, not clean, when it just went);
    None for anything else, which ends the relay's upload."""
    if message["type"] == "websocket.receive":
        text = message.get("text")
        return frames.dumps(["message", text if text is not None else message.get("bytes") or b""])
    if message["type"] == "websocket.disconnect":
        code = message.get("code", 1005)
        return frames.dumps(["close", code, message.get("reason") or "", code != 1006])
    return None


async def to_client(chunks: AsyncIterator[bytes], send: Any) -> None:
    """Send the client each item the worker sends, until the worker's close."""
    async for chunk in chunks:
        message = client_message(chunk)
        if message is not None:
            await send(message)
            if message["type"] == "websocket.close":
                return


def client_message(chunk: bytes) -> dict[str, Any] | None:
    """The ASGI message sending the client one item from the worker (a close ends the relay)."""
    item = frames.loads(chunk)
    if item[0] == "message":
        return {"type": "websocket.send", "text" if isinstance(item[1], str) else "bytes": item[1]}
    if item[0] == "close":
        code = 1000 if item[1] in (1005, 1006) else item[1]
        return {"type": "websocket.close", "code": code, "reason": item[2] or ""}
    return None


async def refuse(
    send: Any,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    *,
    denial_response: bool = True,
) -> None:
    """An upgrade answered without a WebSocket: ``status`` and ``body`` as an HTTP response
    when the server has ASGI's ``websocket.http.response`` extension (the host's server
    has), else a close before accepting (1008)."""
    if not denial_response:
        await send({"type": "websocket.close", "code": 1008, "reason": f"refused ({status})"})
        return
    kept = [(k, v) for k, v in headers if k.lower() not in _FRAMING]
    kept.append((b"content-length", str(len(body)).encode()))
    await send({"type": "websocket.http.response.start", "status": status, "headers": kept})
    await send({"type": "websocket.http.response.body", "body": body})


_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection", b"keep-alive"})
