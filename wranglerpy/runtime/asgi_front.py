"""Plain HTTP into a worker (``dev``'s public port, served by uvicorn: ``host/http_server``), as ASGI.

A request becomes a ``Request`` whose body streams from ASGI ``receive``; the ``Response``
goes back through ``send``, chunk by chunk, and a client that leaves stops the stream (and
whatever produces it). An ASGI ``app`` as the worker's main is called as on Cloudflare, through
``asgi.fetch`` (``asgi_bridge``) from that ``Request``, the same way the frames reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from wranglerpy.runtime import limits as cpu_limits
from wranglerpy.runtime import tracing
from wranglerpy.runtime.cf import local_cf
from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.request_response import Request, Response

if TYPE_CHECKING:
    from wranglerpy.runtime.app import WorkerApp
    from wranglerpy.runtime.entrypoint import ExecutionContext

Scope = dict[str, Any]
Receive = Any
Send = Any


class RequestBody:
    """The ASGI request body as an async iterator, remembering whether it was fully read."""

    def __init__(self, receive: Receive, max_size: int | None = None) -> None:
        self.receive = receive
        self.max_size = max_size
        self.size = 0
        self.complete = False
        self.disconnected = False
        self.taken = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        self.taken = True
        return self._chunks()

    async def drain_if_untouched(self) -> None:
        """Read a body nobody asked for, so the connection can be watched for a disconnect."""
        if not self.taken:
            with contextlib.suppress(ConnectionError):  # a cut body nobody reads: no matter
                async for _ in self:
                    pass

    async def _chunks(self) -> AsyncIterator[bytes]:
        while not self.complete:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                self.complete = True
                # Never a short body taken for the whole one: a cut upload is an error.
                raise ConnectionError("the request body was cut short: the client left")
            chunk = message.get("body", b"")
            self.complete = not message.get("more_body", False)
            self.size += len(chunk)
            if self.max_size is not None and self.size > self.max_size:
                self.complete = True  # a chunked body past the limit: refused, not stored
                raise ConnectionError(f"the request body is over {self.max_size} bytes")
            if chunk:
                yield chunk


def request_url(scope: Scope) -> str:
    host = ""
    for name, value in scope.get("headers") or ():
        if name == b"host":
            host = value.decode("latin-1")
            break
    if not host:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] in (None, 80) else f"{server[0]}:{server[1]}"
    path = scope.get("raw_path") or scope["path"].encode()
    url = f"{scope.get('scheme', 'http')}://{host}{path.decode('latin-1')}"
    if scope.get("query_string"):
        url += "?" + scope["query_string"].decode("latin-1")
    return url


async def serve(app: WorkerApp, scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(app, scope, receive, send)
    elif scope["type"] == "http":
        await _http(app, scope, receive, send)
    elif scope["type"] == "websocket" and (app.loaded is None or not app.loaded.asgi_app):
        from wranglerpy.runtime.websocket_asgi import serve_websocket

        await serve_websocket(app, scope, receive, send)
    elif app.loaded is not None and app.loaded.asgi_app is not None:
        await app.loaded.asgi_app(_with_env(app, scope), receive, send)


async def _lifespan(app: WorkerApp, scope: Scope, receive: Receive, send: Send) -> None:
    if app.loaded is not None and app.loaded.asgi_app is not None:
        await app.loaded.asgi_app(scope, receive, send)
        return
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _with_env(app: WorkerApp, scope: Scope, ctx: ExecutionContext | None = None) -> Scope:
    scope = dict(scope)
    scope["env"] = app.env
    scope["ctx"] = ctx or app.new_context()
    return scope


async def _refuse(send: Send, status: int, message: str) -> None:
    body = (message + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _http(app: WorkerApp, scope: Scope, receive: Receive, send: Send) -> None:
    headers = Headers.from_raw(scope.get("headers") or [])
    check = getattr(app, "host_check", None)
    host = headers.get("host")
    if check is not None and not check.allows(host):
        await _refuse(send, 403, check.refusal(host or ""))
        return
    limits = getattr(app, "http_limits", None)
    declared = headers.get("content-length")
    if limits is not None and declared and declared.isdigit() and int(declared) > limits.max_body:
        # Cloudflare's 413, before a byte of the body is read.
        await _refuse(send, 413, f"Payload Too Large: the body is over {limits.max_body} bytes")
        return
    url = request_url(scope)
    event = app.begin(
        trace=headers.get("traceparent") or tracing.new_trace_id(),  # a W3C caller's trace
        method=scope["method"],
        url=url,
        headers=headers,
        client=(scope.get("client") or ("", 0))[0],
    )
    event["path"] = scope["path"]
    ctx = app.new_context()
    try:
        body = RequestBody(receive, limits.max_body if limits is not None else None)
        method = scope["method"]
        request = Request(
            url,
            method=method,
            headers=headers,
            body=None if method in ("GET", "HEAD") else body,
            cf=local_cf(),
        )
        response = await app.route(request, ctx, event)
        event["status"] = response.status
        await send_response(response, send, body, event, head=method == "HEAD")
        await ctx.drain()
    finally:
        app.finish(event)


async def send_response(
    response: Response,
    send: Send,
    body: RequestBody | None,
    event: dict[str, Any],
    head: bool = False,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": response.headers.raw(),
        }
    )
    if not response.has_body() or head:
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    if response.is_buffered():
        await send(
            {"type": "http.response.body", "body": await response.bytes(), "more_body": False}
        )
        return
    assert response.body is not None
    stream = cpu_limits.metered_body(response.body, event.get("invocation"))

    async def pump() -> None:
        try:
            async for chunk in stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    if body is not None:
        await body.drain_if_untouched()
    if body is None or not body.complete or body.disconnected:
        await pump()
        return
    # The request body is read: watch for the client going away, and stop the stream
    # (and whatever produces it, e.g. model generation) when it does.
    pump_task = asyncio.ensure_future(pump())
    watch_task = asyncio.ensure_future(_wait_disconnect(body.receive))
    try:
        await asyncio.wait({pump_task, watch_task}, return_when=asyncio.FIRST_COMPLETED)
        if not pump_task.done():
            pump_task.cancel()
            event["outcome"] = "canceled"
        await asyncio.gather(pump_task, return_exceptions=True)
    finally:
        watch_task.cancel()


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
