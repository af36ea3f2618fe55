"""Outbound WebSockets from worker code: ``js.WebSocket.new(url)`` (``new WebSocket(url)``).

The connection runs on the ``websockets`` library in a task of the worker's event loop; the
socket fires ``open``, ``message``, ``close`` and ``error`` events as in workerd.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from wranglerpy.runtime.request_response import Response
from wranglerpy.runtime.websocket import CLOSED, CONNECTING, DOMSyntaxError, Item, WebSocket

_ERR = "WebSocket Constructor: "
_tasks: set[asyncio.Task[Any]] = set()


def _protocols(protocols: Any) -> list[str] | None:
    if protocols is None:
        return None
    items = [protocols] if isinstance(protocols, str) else list(protocols)
    if len(set(items)) != len(items):
        raise DOMSyntaxError(_ERR + "The protocols header cannot have repeating values.")
    return items or None


def connect_outbound(url: str, protocols: Any = None) -> WebSocket:
    try:
        parts = urlsplit(str(url))
    except ValueError:
        raise DOMSyntaxError(_ERR + "The url is invalid.") from None
    if not parts.netloc:
        raise DOMSyntaxError(_ERR + "The url is invalid.")
    if parts.scheme not in ("ws", "wss"):
        raise DOMSyntaxError(_ERR + "The url scheme must be ws or wss.")
    if parts.fragment:
        raise DOMSyntaxError(_ERR + "The url fragment must be empty.")
    ws = WebSocket(str(url))
    ws._outbound = True
    ws._state = "connecting"
    ws.readyState = CONNECTING
    task = asyncio.ensure_future(_run(ws, str(url), _protocols(protocols)))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return ws


async def fetch_websocket(request: Any) -> Response:
    """``fetch(url, headers={"Upgrade": "websocket"})``: a 101 response whose ``webSocket``
    the worker must ``accept()`` before it gets messages (as in workerd)."""
    import websockets

    parts = urlsplit(request.url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    url = parts._replace(scheme=scheme).geturl()
    skip = {"upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "host"}
    extra = [(k, v) for k, v in request.headers.items() if k.lower() not in skip]
    protocols = request.headers.get("sec-websocket-protocol")
    try:
        conn = await websockets.connect(
            url,
            additional_headers=[(k, v) for k, v in extra if k.lower() != "sec-websocket-protocol"],
            subprotocols=[p.strip() for p in protocols.split(",")] if protocols else None,
        )
    except websockets.InvalidStatus as exc:
        return Response(exc.response.body or b"", status=exc.response.status_code)
    ws = WebSocket(url)
    ws.protocol = conn.subprotocol or ""
    queue: asyncio.Queue[Item] = asyncio.Queue()
    ws._transport = queue.put_nowait  # frames it receives wait for accept()
    task = asyncio.ensure_future(_pump(ws, conn, queue))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    headers = {"sec-websocket-protocol": ws.protocol} if ws.protocol else None
    return Response(None, status=101, headers=headers, web_socket=ws)


async def _run(ws: WebSocket, url: str, protocols: list[str] | None) -> None:
    import websockets

    queue: asyncio.Queue[Item] = asyncio.Queue()
    try:
        conn = await websockets.connect(url, subprotocols=protocols)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - reported to the worker as an error event
        ws._dispatch(("error", exc))
        ws._dispatch(("close", 1006, "", False))
        return
    ws.protocol = conn.subprotocol or ""
    ws._transport = queue.put_nowait
    ws._state = "accepted"
    ws._dispatch(("open",))
    await _pump(ws, conn, queue)


async def _pump(ws: WebSocket, conn: Any, queue: asyncio.Queue[Item]) -> None:
    from websockets.exceptions import ConnectionClosed

    async def writer() -> None:
        while True:
            item = await queue.get()
            if item[0] == "message":
                await conn.send(item[1])
            elif item[0] == "close":
                await conn.close(item[1] if item[1] != 1005 else 1000, item[2])
                return

    write_task = asyncio.ensure_future(writer())
    try:
        async for message in conn:
            ws._incoming(("message", message))
    except ConnectionClosed:
        pass
    finally:
        write_task.cancel()
    received = getattr(conn.protocol, "close_rcvd", None)
    code = received.code if received is not None else 1006
    reason = received.reason if received is not None else ""
    if ws.readyState != CLOSED:
        ws._incoming(("close", code, reason, received is not None))
