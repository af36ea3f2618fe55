"""WebSocket upgrades through the Ray ingress.

Serve's HTTP proxy (on every node) speaks ASGI WebSockets to an ingress built with
``serve.ingress``; the ingress relays the handshake to the worker's replicas as a
``WebSocketHead`` call, as the edge router does (``runtime/websocket_wire.py``). The worker's
messages come back on the call's streaming generator, one DATA frame per message. The other
direction needs a channel Ray does not give a call (arguments are sent whole, once): each
ingress replica keeps one small actor, an ``Inbox`` (``ray/inbox.py``), on its own node; the
ingress puts each client message there under the connection's id, and the worker's replica
takes them out. The inbox is owned by the ingress replica, so it goes when that replica goes,
and the worker sees its client leave.
"""

from __future__ import annotations

import contextlib
from typing import Any

from wranglerpy.ray.inbox import new_connection
from wranglerpy.runtime.pumps import run_pumps
from wranglerpy.runtime.websocket_wire import accept, client_item, refuse, to_client
from wranglerpy.wire import frames
from wranglerpy.wire.frames import ResponseHead, WebSocketHead

Scope = dict[str, Any]


def handshake(scope: Scope, host: str, client_ip: str) -> WebSocketHead:
    """The ``WebSocketHead`` of an ASGI WebSocket scope, with the headers the edge sends."""
    from wranglerpy.deploy.router import HOP_BY_HOP

    headers = [(k, v) for k, v in scope["headers"] if k.decode("latin-1") not in HOP_BY_HOP]
    headers += [
        (b"upgrade", b"websocket"),
        (b"cf-connecting-ip", client_ip.encode("latin-1")),
        (b"x-forwarded-proto", b"http"),
    ]
    query = scope.get("query_string", b"").decode("latin-1")
    target = scope["path"] + (f"?{query}" if query else "")
    return WebSocketHead(
        method="GET", url=f"http://{host or '127.0.0.1'}{target}", headers=headers, client=client_ip
    )


async def relay(
    client: Any, inbox: Any, head: WebSocketHead, scope: Scope, receive: Any, send: Any
) -> None:
    """Relay one ASGI WebSocket to the worker behind ``client`` (a ``HandleClient``) until
    either side closes."""
    from wranglerpy.ray.handles import HandleAnswer

    first = await receive()
    if first["type"] != "websocket.connect":
        return
    conn = new_connection()
    try:
        reader, stop = await client.open(head.encode(), None, inbox, conn)
        kind, payload = await frames.read_frame(reader)
        answer_head = frames.decode_head(kind, payload)
        if not isinstance(answer_head, ResponseHead):
            raise frames.FrameError("unexpected answer from the worker")
    except (ConnectionError, frames.FrameError):
        await inbox.drop.remote(conn)
        await send({"type": "websocket.close", "code": 1011, "reason": "worker not reachable"})
        return
    answer = HandleAnswer(answer_head, reader, stop)
    if answer_head.status != 101:
        body = await answer.read_all()
        await inbox.drop.remote(conn)
        denial = "websocket.http.response" in (scope.get("extensions") or {})
        await refuse(send, answer_head.status, answer_head.headers, body, denial_response=denial)
        return
    await send(accept(answer_head))

    async def from_client() -> None:
        try:
            while (item := client_item(await receive())) is not None:
                await inbox.put.remote(conn, item)
                if frames.loads(item)[0] == "close":
                    return
        finally:
            with contextlib.suppress(Exception):
                await inbox.put.remote(conn, None)  # after the close, in order

    async def from_worker() -> None:
        try:
            await to_client(answer.chunks(), send)
        except ConnectionError:  # the worker's replica is gone
            await send({"type": "websocket.close", "code": 1011, "reason": "worker lost"})

    try:
        await run_pumps(from_client(), from_worker())
    finally:
        answer.close()
        with contextlib.suppress(Exception):
            await inbox.drop.remote(conn)
