"""``workers.asgi.websocket(app, request, env)``: an ASGI app's WebSocket endpoint behind a
``WebSocketPair``, as the SDK runs it (``SDK/asgi.py`` ``process_websocket``): the server end
is accepted at once, frames become ``websocket.receive`` messages (binary ones under
``bytes``), a close from the client is ``websocket.disconnect``, and the client end goes back
in a 101 response."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import unquote, urlsplit

from wranglerpy.runtime.request_response import Response
from wranglerpy.runtime.websocket import WebSocketPair

logger = logging.getLogger("asgi")
_running: set[asyncio.Task[Any]] = set()


def websocket_scope(request: Any, env: Any) -> dict[str, Any]:
    parts = urlsplit(request.url)
    return {
        "type": "websocket",
        "asgi": {"spec_version": "2.0", "version": "3.0"},
        "http_version": "1.1",
        "scheme": "wss" if parts.scheme == "https" else "ws",
        "path": unquote(parts.path or "/"),
        "raw_path": (parts.path or "/").encode(),
        "query_string": parts.query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in request.headers.items()],
        "env": env,
    }


async def websocket(app: Any, request: Any, env: Any = None) -> Response:
    client, server = WebSocketPair.new().object_values()
    server.accept()
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    inbox.put_nowait({"type": "websocket.connect"})

    def on_message(event: Any) -> None:
        data = event.data
        if isinstance(data, str):
            inbox.put_nowait({"type": "websocket.receive", "text": data})
        else:
            inbox.put_nowait({"type": "websocket.receive", "bytes": bytes(data)})

    def on_close(event: Any) -> None:
        code = getattr(event, "code", 1005)
        reason = getattr(event, "reason", "")
        inbox.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})

    server.onmessage = on_message
    server.onclose = on_close

    async def send(message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            return  # the pair is accepted before the 101 goes back
        if kind == "websocket.send":
            if message.get("bytes") is not None:
                server.send(bytes(message["bytes"]))
            if message.get("text") is not None:
                server.send(message["text"])
        elif kind == "websocket.close":
            server.close(message.get("code", 1000), message.get("reason", ""))
        else:
            logger.warning(" == Not implemented %s", kind)

    async def run() -> None:
        try:
            await app(websocket_scope(request, env if env is not None else {}), inbox.get, send)
        except Exception:  # noqa: BLE001 - logged as the SDK's background tasks log it
            logger.exception("Unhandled exception in background task")

    task = asyncio.ensure_future(run())
    _running.add(task)
    task.add_done_callback(_running.discard)
    return Response(None, 101, web_socket=client)
