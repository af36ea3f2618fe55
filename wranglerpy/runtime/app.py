"""The ASGI app a worker process serves: routes each request to the user's handler.

It turns ASGI into the worker API (``Request`` in, ``Response`` out, streamed), answers RPC
and scheduled-event calls, serves ``[assets]``, and reports one ``request`` event per request.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import traceback
from collections.abc import AsyncIterator
from typing import Any

from wranglerpy.runtime import console, protocol, tracing
from wranglerpy.runtime.assets import AssetServer
from wranglerpy.runtime.cf import local_cf
from wranglerpy.runtime.entrypoint import ExecutionContext
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.error_page import error_response
from wranglerpy.runtime.events import EventSink
from wranglerpy.runtime.ffi import drive
from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.loader import LoadedWorker, WorkerLoadError
from wranglerpy.runtime.messages import Request, Response
from wranglerpy.runtime.relaxed import relaxed_call
from wranglerpy.runtime.scheduled import SCHEDULED_PATHS, run_scheduled

Scope = dict[str, Any]
ASGIReceive = Any
ASGISend = Any

REDACTED_HEADERS = frozenset({"authorization", "cookie", "x-api-key"})
_BINDING_HEADERS = protocol.INTERNAL_HEADERS | {protocol.TRACE_HEADER}


class _RequestBody:
    """The ASGI request body as an async iterator, remembering whether it was fully read."""

    def __init__(self, receive: ASGIReceive) -> None:
        self._receive = receive
        self.complete = False
        self.disconnected = False
        self.taken = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        self.taken = True
        return self._chunks()

    async def drain_if_untouched(self) -> None:
        """Read a body nobody asked for, so the connection can be watched for a disconnect."""
        if not self.taken:
            async for _ in self:
                pass

    async def _chunks(self) -> AsyncIterator[bytes]:
        while not self.complete:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                self.complete = True
                return
            chunk = message.get("body", b"")
            self.complete = not message.get("more_body", False)
            if chunk:
                yield chunk


def _request_url(scope: Scope) -> str:
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1")
    if not host:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] in (None, 80) else f"{server[0]}:{server[1]}"
    path = scope.get("raw_path") or scope["path"].encode()
    url = f"{scope.get('scheme', 'http')}://{host}{path.decode('latin-1')}"
    if scope.get("query_string"):
        url += "?" + scope["query_string"].decode("latin-1")
    return url


class WorkerApp:
    """One worker's ASGI application (built in the worker's own process)."""

    def __init__(
        self,
        name: str,
        env: Env,
        loaded: LoadedWorker | None,
        sink: EventSink,
        *,
        token: str = "",
        load_error: WorkerLoadError | None = None,
        assets: AssetServer | None = None,
        expose_errors: bool = True,
    ) -> None:
        self.name = name
        self.env = env
        self.loaded = loaded
        self.sink = sink
        self.token = token
        self.load_error = load_error
        self.assets = assets
        self.expose_errors = expose_errors
        self.background: set[asyncio.Task[Any]] = set()

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        elif self.loaded is not None and self.loaded.asgi_app is not None:
            await self.loaded.asgi_app(self._with_env(scope), receive, send)

    async def _lifespan(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        if self.loaded is not None and self.loaded.asgi_app is not None:
            await self.loaded.asgi_app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _with_env(self, scope: Scope, ctx: ExecutionContext | None = None) -> Scope:
        scope = dict(scope)
        scope["env"] = self.env
        scope["ctx"] = ctx or ExecutionContext(self._background_error)
        return scope

    def _background_error(self, error: BaseException) -> None:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        console.record(self.sink, self.name, "error", f"Uncaught (in waitUntil) {text.rstrip()}")

    async def _http(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        started = time.perf_counter()
        # One pass over the raw headers: binding metadata out, the rest for the worker.
        binding: dict[str, str] = {}
        kept: list[tuple[str, str]] = []
        for raw_name, raw_value in scope.get("headers") or []:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name in _BINDING_HEADERS:
                binding[name] = value
            else:
                kept.append((name, value))
        internal = bool(self.token) and binding.get(protocol.BINDING_TOKEN_HEADER) == self.token
        if not internal:
            binding = {}
        headers = Headers()
        headers._items = kept
        trace_id = binding.get(protocol.TRACE_HEADER) or tracing.new_trace_id()
        tracing.set_trace_id(trace_id)
        logs: list[dict[str, Any]] = []
        console.request_logs.set(logs)
        url = _request_url(scope)
        scope["wranglerpy.url"] = url
        event: dict[str, Any] = {
            "type": "request",
            "worker": self.name,
            "trace": trace_id,
            "method": scope["method"],
            "url": url,
            "path": scope["path"],
            "headers": {k: ("REDACTED" if k in REDACTED_HEADERS else v) for k, v in kept},
            "client": (scope.get("client") or ("", 0))[0],
            "caller": binding.get(protocol.CALLER_HEADER),
            "logs": logs,
            "exceptions": [],
        }
        if internal:
            scope["wranglerpy.entrypoint"] = binding.get(protocol.ENTRYPOINT_HEADER) or "Default"
        status = {"code": 500, "outcome": "ok"}
        try:
            await self._dispatch(scope, receive, send, headers, internal, event, status)
        finally:
            event["status"] = status["code"]
            event["outcome"] = status["outcome"]
            event["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            self.sink.emit(event)

    async def _dispatch(
        self,
        scope: Scope,
        receive: ASGIReceive,
        send: ASGISend,
        headers: Headers,
        internal: bool,
        event: dict[str, Any],
        status: dict[str, Any],
    ) -> None:
        path = scope["path"]
        body = _RequestBody(receive)
        ctx = ExecutionContext(self._background_error)

        if internal and path.startswith(protocol.RPC_PATH_PREFIX):
            method = path[len(protocol.RPC_PATH_PREFIX) :]
            event["rpcMethod"] = method
            payload = b"".join([c async for c in body])
            entry = scope.get("wranglerpy.entrypoint", "Default")
            response = await self._rpc(entry, method, payload, ctx, event)
        elif self.load_error is not None:
            response = self._load_error_response(headers)
            status["outcome"] = "exception"
        elif path in SCHEDULED_PATHS and self.loaded is not None:
            response = await run_scheduled(
                self.loaded,
                self.env,
                ctx,
                scope,
                event,
                on_error=lambda exc: self._record_exception(exc, event),
            )
            if response.status == 500:
                status["outcome"] = "exception"
        elif (
            self.loaded is not None
            and self.loaded.asgi_app is not None
            and not self._asset_first(path)
        ):
            await self._call_asgi(scope, receive, send, ctx, status, event)
            await ctx.drain()
            return
        else:
            response = None
            if self.assets is not None and self._asset_first(path):
                response = self.assets.lookup(scope["method"], path, headers)
            if response is None:
                if self.loaded is not None and self.loaded.asgi_app is not None:
                    await self._call_asgi(scope, receive, send, ctx, status, event)
                    await ctx.drain()
                    return
                request = Request(
                    scope["wranglerpy.url"],
                    method=scope["method"],
                    headers=headers,
                    body=None if scope["method"] in ("GET", "HEAD") else body,
                    cf=local_cf(),
                )
                entry = scope.get("wranglerpy.entrypoint", "Default")
                response = await self._call_fetch(request, ctx, headers, event, status, entry)
                if (
                    response.status == 404
                    and self.assets is not None
                    and not self._asset_first(path)
                ):
                    response = self.assets.lookup(scope["method"], path, headers) or response
        assert response is not None
        status["code"] = response.status
        await self._send(response, send, body, status, head=scope["method"] == "HEAD")
        await ctx.drain()

    def _asset_first(self, path: str) -> bool:
        return self.assets is not None and not self.assets.worker_first(path)

    async def _call_asgi(
        self,
        scope: Scope,
        receive: ASGIReceive,
        send: ASGISend,
        ctx: ExecutionContext,
        status: dict[str, Any],
        event: dict[str, Any],
    ) -> None:
        assert self.loaded is not None
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                status["code"] = message["status"]
            await send(message)

        try:
            await self.loaded.asgi_app(self._with_env(scope, ctx), receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - report the user's failure, answer 500
            self._record_exception(exc, event)
            status["outcome"] = "exception"
            if not started:
                response = error_response(
                    exc, Headers.from_raw(scope.get("headers") or []), expose=self.expose_errors
                )
                status["code"] = response.status
                await self._send(response, send, None, status)

    async def _call_fetch(
        self,
        request: Request,
        ctx: ExecutionContext,
        headers: Headers,
        event: dict[str, Any],
        status: dict[str, Any],
        entry: str = "Default",
    ) -> Response:
        assert self.loaded is not None
        try:
            result: Any
            default = self.loaded.entrypoints.get(entry)
            if default is None and entry != "Default":
                raise TypeError(f'Worker "{self.name}" has no entrypoint named "{entry}"')
            fetch_name = self.loaded.method_name("fetch")
            if default is not None:
                # Only fetch (and test) are relaxed calls (python-entrypoint-helper.ts:466).
                method = getattr(default(ctx, self.env), fetch_name, None)
                if not callable(method):
                    raise TypeError(f"Method {fetch_name} does not exist")
                result = relaxed_call(method, request, self.env, ctx)
            elif self.loaded.on_fetch is not None:
                result = relaxed_call(self.loaded.on_fetch, request, self.env, ctx)
            else:
                return Response("This worker has no fetch handler.", status=501)
            if inspect.isawaitable(result):
                result = await drive(result)  # run_sync works inside, as JSPI allows
            if not isinstance(result, Response):
                raise TypeError(f"fetch() must return a Response, got {type(result).__name__}")
            return result
        except Exception as exc:  # noqa: BLE001 - report the user's failure, answer 500
            self._record_exception(exc, event)
            status["outcome"] = "exception"
            return error_response(exc, headers, expose=self.expose_errors)

    def _record_exception(self, exc: BaseException, event: dict[str, Any]) -> None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        event["exceptions"].append(
            {
                "name": type(exc).__name__,
                "message": str(exc),
                "stack": text,
                "timestamp": int(time.time() * 1000),
            }
        )
        console.record(self.sink, self.name, "error", text.rstrip())

    def _load_error_response(self, headers: Headers) -> Response:
        assert self.load_error is not None
        return error_response(
            self.load_error,
            headers,
            expose=self.expose_errors,
            detail=self.load_error.detail,
            title="Worker failed to load",
        )

    async def _rpc(
        self, entry: str, method: str, payload: bytes, ctx: ExecutionContext, event: dict[str, Any]
    ) -> Response:
        def fail(name: str, message: str) -> Response:
            return Response.json({"ok": False, "error": {"name": name, "message": message}})

        if self.load_error is not None:
            return fail("Error", f"Worker {self.name} failed to load: {self.load_error}")
        cls = self.loaded.entrypoints.get(entry) if self.loaded else None
        if cls is None:
            return fail("TypeError", f'Worker "{self.name}" has no entrypoint named "{entry}"')
        func = getattr(cls, method, None)
        if method.startswith("_") or method in ("fetch", "scheduled") or not callable(func):
            return fail("TypeError", f'The RPC receiver does not implement the method "{method}".')
        try:
            data = json.loads(payload or b"{}")
            result = getattr(cls(ctx, self.env), method)(
                *data.get("args", []), **data.get("kwargs", {})
            )
            if inspect.isawaitable(result):
                result = await result
            return Response.json({"ok": True, "result": result})
        except Exception as exc:  # noqa: BLE001 - the caller gets the type name and message
            self._record_exception(exc, event)
            return fail(type(exc).__name__, str(exc))

    async def _send(
        self,
        response: Response,
        send: ASGISend,
        body: _RequestBody | None,
        status: dict[str, Any],
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
        stream = response.body
        assert stream is not None

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
        watch_task = asyncio.ensure_future(_wait_disconnect(body._receive))
        try:
            await asyncio.wait({pump_task, watch_task}, return_when=asyncio.FIRST_COMPLETED)
            if not pump_task.done():
                pump_task.cancel()
                status["outcome"] = "canceled"
            await asyncio.gather(pump_task, return_exceptions=True)
        finally:
            watch_task.cancel()


async def _wait_disconnect(receive: ASGIReceive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
