"""Serving WebSocket upgrades: the ASGI ``websocket`` scope of a worker's HTTP server.

The handshake becomes a ``Request`` (``GET`` with ``Upgrade: websocket``) for the worker's
``fetch``. A ``Response(None, status=101, web_socket=client)`` accepts the connection and
couples ``client`` to it; any other response refuses the upgrade with that response (through
ASGI's websocket denial response when the server offers it, else a 403 close).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wranglerpy.runtime import tracing
from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.request_response import Request, Response
from wranglerpy.runtime.websocket import WebSocket
from wranglerpy.runtime.websocket_sender import EagerSender

if TYPE_CHECKING:
    from wranglerpy.runtime.app import WorkerApp

Scope = dict[str, Any]


def handshake_request(scope: Scope) -> Request:
    """The worker-facing request of a WebSocket handshake."""
    from wranglerpy.runtime.asgi_front import request_url

    headers = Headers.from_raw(scope.get("headers") or [])
    if "upgrade" not in headers:
        headers.set("upgrade", "websocket")
    http_scope = dict(scope)
    http_scope["scheme"] = "https" if scope.get("scheme") == "wss" else "http"
    return Request(request_url(http_scope), method="GET", headers=headers)


async def serve_websocket(app: WorkerApp, scope: Scope, receive: Any, send: Any) -> None:
    first = await receive()
    if first["type"] != "websocket.connect":
        return
    request = handshake_request(scope)
    event = app.begin(
        trace=tracing.new_trace_id(),
        method="GET",
        url=request.url,
        headers=request.headers,
        client=(scope.get("client") or ("", 0))[0],
    )
    event["path"] = scope["path"]
    ctx = app.new_context()
    try:
        response = await app.route(request, ctx, event)
        event["status"] = response.status
    finally:
        app.finish(event)
    client = getattr(response, "webSocket", None)
    if response.status != 101 or not isinstance(client, WebSocket):
        await _refuse(scope, send, response)
        return
    await run_connection(client, receive, send, response)
    await ctx.drain()


async def _refuse(scope: Scope, send: Any, response: Response) -> None:
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": response.status if response.status != 101 else 500,
                "headers": response.headers.raw(),
            }
        )
        await send({"type": "websocket.http.response.body", "body": await response.bytes()})
    else:
        await send({"type": "websocket.close", "code": 1008})


async def run_connection(client: WebSocket, receive: Any, send: Any, response: Response) -> None:
    """Accept the connection and pump frames both ways until it closes."""
    # Frames go out inside ws.send() (no writer task per socket): see websocket_sender.py.
    sender = EagerSender(send)
    client.couple(sender.push)
    accept: dict[str, Any] = {"type": "websocket.accept"}
    protocol = response.headers.get("sec-websocket-protocol")
    if protocol:
        accept["subprotocol"] = protocol
    extra = [
        (k, v)
        for k, v in response.headers.raw()
        if k.lower() not in (b"sec-websocket-protocol", b"upgrade", b"connection")
    ]
    if extra:
        accept["headers"] = extra
    await send(accept)
    sender.start()
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.receive":
                text = message.get("text")
                client.from_network(
                    ("message", text if text is not None else message.get("bytes") or b"")
                )
            elif message["type"] == "websocket.disconnect":
                code = int(message.get("code") or 1005)
                client.from_network(("close", code, message.get("reason") or "", code != 1006))
                break
    finally:
        # Let a send that had to wait finish, then stop.
        await sender.stop()
