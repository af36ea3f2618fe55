"""Outbound WebSockets from worker code: ``js.WebSocket.new(url)`` (``new WebSocket(url)``).

The connection runs on the ``websockets`` library in a task of the worker's event loop; the
socket fires ``open``, ``message``, ``close`` and ``error`` events as in workerd.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

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


async def _run(ws: WebSocket, url: str, protocols: list[str] | None) -> None:
    import websockets
    from websockets.exceptions import ConnectionClosed

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
