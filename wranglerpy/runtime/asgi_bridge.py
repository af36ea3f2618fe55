"""Run an ASGI app (FastAPI, Quart, ...) for one ``Request``: ``await asgi.fetch(app, request, env)``.

The app sees ``scope["env"]`` and no ``ctx``, as on Cloudflare (SDK ``asgi.py``
``request_to_scope``; work after the response goes through ``workers.wait_until``); its
response streams back as the app sends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote, urlsplit

from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.request_response import Request, Response

_END = object()
DISCONNECT_GRACE = 2.0  # seconds an app gets to stop after its client left


async def fetch(
    app: Any, request: Request, env: Any, ctx: Any = None, state: dict[str, Any] | None = None
) -> Response:
    parts = urlsplit(request.url)
    # Exactly the SDK's keys (SDK/asgi.py request_to_scope): no server, client or root_path,
    # which ASGI makes optional, so an app that needs them fails here as it would there.
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": parts.scheme or "http",
        "path": unquote(parts.path or "/"),  # ASGI: percent-decoded; raw_path keeps it
        "raw_path": (parts.path or "/").encode(),
        "query_string": parts.query.encode(),
        "headers": request.headers.raw(),
        "env": env,
    }
    if state is not None:
        scope["state"] = dict(state)  # lifespan state, a shallow copy per request
    body_iter = request.body if request.has_body() else None
    started: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    chunks: asyncio.Queue[Any] = asyncio.Queue()
    disconnected = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if body_iter is not None:
            try:
                chunk = await body_iter.__anext__()
                return {"type": "http.request", "body": chunk, "more_body": True}
            except StopAsyncIteration:
                pass
        if not getattr(receive, "sent_end", False):
            receive.sent_end = True  # type: ignore[attr-defined]
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if disconnected.is_set():
            return  # nobody reads the answer any more
        if message["type"] == "http.response.start":
            started.set_result(message)
        elif message["type"] == "http.response.body":
            if message.get("body"):
                await chunks.put(bytes(message["body"]))
            if not message.get("more_body", False):
                await chunks.put(_END)

    async def run() -> None:
        try:
            await app(scope, receive, send)
        except BaseException as exc:
            if not started.done():
                started.set_exception(exc)
            await chunks.put(_END)
            if not isinstance(exc, Exception):
                raise
        else:
            await chunks.put(_END)

    task = asyncio.ensure_future(run())
    start = await started

    async def body() -> AsyncIterator[bytes]:
        try:
            while True:
                item = await chunks.get()
                if item is _END:
                    return
                yield item
        finally:
            disconnected.set()
            if not task.done():
                # Tell the app first: frameworks (Quart, Starlette) stop their own request
                # tasks on http.disconnect, which a cancel of the outer call would not reach.
                await asyncio.wait({task}, timeout=DISCONNECT_GRACE)
            if not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=DISCONNECT_GRACE)

    headers = Headers.from_raw(start.get("headers") or [])
    return Response(body(), status=start["status"], headers=headers)
