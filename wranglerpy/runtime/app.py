"""A worker process's application: every kind of call reaches the user's handlers here.

Calls arrive two ways. Frames on the worker's unix socket (see ``wranglerpy.wire``): one
handler per frame kind, in the table ``WorkerApp.wire_handlers()`` — fetch (public, from the
edge router), service-binding fetch, RPC, scheduled. Plain HTTP from a browser in ``dev``:
the app is also an ASGI app (``__call__``, served by uvicorn; see ``asgi_front``). Both
end in the same ``route`` (assets, fetch handler, errors) and report one ``request`` event per
call, shaped for ``tail``.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import traceback
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wranglerpy.config.limits import Limits
from wranglerpy.logs.redact import REDACTED_HEADERS
from wranglerpy.runtime import asgi_bridge, asgi_front, console, limits, tracing
from wranglerpy.runtime.assets import AssetServer
from wranglerpy.runtime.cf import local_cf
from wranglerpy.runtime.entrypoint import ExecutionContext, relaxed_call
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.error_page import error_response, exceeded_resources_response
from wranglerpy.runtime.events import EventSink
from wranglerpy.runtime.ffi import drive
from wranglerpy.runtime.headers import Headers, HeadersCopy
from wranglerpy.runtime.limits import CpuLimitExceeded
from wranglerpy.runtime.loader import LoadedWorker, WorkerLoadError
from wranglerpy.runtime.request_response import Request, Response
from wranglerpy.runtime.rpc import check_rpc_value
from wranglerpy.runtime.scheduled import SCHEDULED_PATHS, NoScheduledHandler, run_scheduled
from wranglerpy.wire import frames
from wranglerpy.wire.frames import FetchHead, ResponseHead, Result, RpcHead, ScheduledHead
from wranglerpy.wire.server import Call, Handler

NOT_RPC = frozenset({"fetch", "scheduled", "queue", "test"})  # handlers, not RPC methods


class WorkerApp:
    """One worker, built in its own process from the user's loaded module and its ``env``."""

    def __init__(
        self,
        name: str,
        env: Env,
        loaded: LoadedWorker | None,
        sink: EventSink,
        *,
        load_error: WorkerLoadError | None = None,
        assets: AssetServer | None = None,
        expose_errors: bool = True,
        test_paths: bool = True,
        limits: Limits | None = None,
    ) -> None:
        self.name = name
        self.test_paths = test_paths  # wrangler's /cdn-cgi/ test URLs: dev only
        self.env = env
        self.loaded = loaded
        self.sink = sink
        self.load_error = load_error
        self.assets = assets
        self.expose_errors = expose_errors
        self.background: set[asyncio.Task[Any]] = set()
        self.limits = limits or Limits()  # [limits]: CPU time and subrequests per call

    # ------------------------------------------------------------ the fronts
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asgi_front.serve(self, scope, receive, send)

    def wire_handlers(self) -> dict[int, Handler]:
        """The handler of each frame kind this worker serves (one table; add kinds here)."""
        return {
            frames.FETCH: self._on_fetch,
            frames.SERVICE_FETCH: self._on_fetch,
            frames.RPC: self._on_rpc,
            frames.SCHEDULED: self._on_scheduled,
            frames.WEBSOCKET: self._on_websocket,
        }

    # ------------------------------------------------------------- the events
    def begin(
        self,
        *,
        trace: str,
        method: str,
        url: str,
        headers: Headers | HeadersCopy | None = None,
        client: str = "",
        caller: str | None = None,
        entrypoint: str | None = None,
    ) -> dict[str, Any]:
        """The ``request`` event of one call; its logs collect while the call runs."""
        span = tracing.enter(trace)
        invocation = limits.begin(self.limits)
        logs: list[dict[str, Any]] = []
        console.request_logs.set(logs)
        return {
            "type": "request",
            "worker": self.name,
            "trace": span.trace_id,
            "span": span.span_id,
            "parent_span": span.parent_id,
            "start_ns": time.time_ns(),
            "child_spans": tracing.children(),  # None unless spans are exported
            "method": method,
            "url": url,
            "path": urlsplit(url).path or "/",
            "headers": {
                k: ("REDACTED" if k in REDACTED_HEADERS else v)
                for k, v in (headers.items() if headers is not None else ())
            },
            "client": client,
            "caller": caller,
            "entrypoint": entrypoint,
            "logs": logs,
            "exceptions": [],
            "status": 500,
            "outcome": "ok",
            "started": time.perf_counter(),
            "invocation": invocation,  # taken out by finish()
        }

    def finish(self, event: dict[str, Any]) -> None:
        started = event.pop("started")
        invocation = event.pop("invocation", None)
        if invocation is not None and invocation.exceeded:
            # Stopped in a task, a waitUntil or a streamed body, after the handler answered.
            event["outcome"] = "exceededCpu"
        event["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        self.sink.emit(event)

    @staticmethod
    def metered_body(response: Response, event: dict[str, Any]) -> Any:
        """The response's stream, its production charged to the call's CPU budget."""
        assert response.body is not None
        return limits.metered_body(response.body, event.get("invocation"))

    def new_context(self) -> ExecutionContext:
        return ExecutionContext(self._background_error)

    def _background_error(self, error: BaseException) -> None:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        console.record(self.sink, self.name, "error", f"Uncaught (in waitUntil) {text.rstrip()}")

    def record_exception(
        self, exc: BaseException, event: dict[str, Any], *, with_stack: bool = True
    ) -> None:
        """Record ``exc`` on the tail event and print it; ``with_stack=False`` for the runtime's
        own errors about the worker (no user frames to show), printed as one line."""
        if with_stack:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        else:
            text = f"Error: {exc}"
        event["exceptions"].append(
            {
                "name": type(exc).__name__,
                "message": str(exc),
                "stack": text,
                "timestamp": int(time.time() * 1000),
            }
        )
        event["outcome"] = "exception"
        console.record(self.sink, self.name, "error", text.rstrip())

    def record_exceeded_cpu(self, exc: CpuLimitExceeded, event: dict[str, Any]) -> None:
        """A call stopped at its CPU limit: outcome ``exceededCpu``, as Cloudflare reports."""
        self.record_exception(exc, event)
        event["outcome"] = "exceededCpu"

    # ----------------------------------------------------------------- fetch
    async def route(
        self,
        request: Request,
        ctx: ExecutionContext,
        event: dict[str, Any],
        entrypoint: str | None = None,
    ) -> Response:
        """The answer to one HTTP request: load error, scheduled test URL, assets, fetch."""
        headers = request.headers
        if self.load_error is not None:
            event["outcome"] = "exception"
            return error_response(
                self.load_error,
                headers,
                expose=self.expose_errors,
                detail=self.load_error.detail,
                title="Worker failed to load",
            )
        parts = urlsplit(request.url)
        path = parts.path or "/"
        if path in SCHEDULED_PATHS and self.test_paths and self.loaded is not None:
            # wrangler's test URL; the edge router never forwards it (crons use frames).
            query = parse_qs(parts.query)
            cron = (query.get("cron") or [""])[0]
            when = float((query.get("time") or [str(time.time() * 1000)])[0])
            # Answered as wrangler dev does: the outcome, "ok" or 500 "exception".
            try:
                await run_scheduled(self.loaded, self.env, ctx, cron, when, event)
            except CpuLimitExceeded as exc:
                self.record_exceeded_cpu(exc, event)
                return Response("exceededCpu", status=500)
            except NoScheduledHandler as exc:
                self.record_exception(exc, event, with_stack=False)
                return Response("exception", status=500)
            except Exception as exc:  # noqa: BLE001 - the user's scheduled() failed
                self.record_exception(exc, event)
                await ctx.drain()
                return Response("exception", status=500)
            return Response("ok")
        if self.assets is not None and self.asset_first(path):
            found = self.assets.lookup(request.method, path, headers)
            if found is not None:
                return found
        assert self.loaded is not None
        if self.loaded.asgi_app is not None and entrypoint is None:
            try:
                return await asgi_bridge.fetch(self.loaded.asgi_app, request, self.env, ctx)
            except Exception as exc:  # noqa: BLE001 - report the user's failure, answer 500
                self.record_exception(exc, event)
                return error_response(exc, headers, expose=self.expose_errors)
        response = await self._call_fetch(request, ctx, event, entrypoint or "Default")
        if response.status == 404 and self.assets is not None and not self.asset_first(path):
            response = self.assets.lookup(request.method, path, headers) or response
        return response

    def asset_first(self, path: str = "/") -> bool:
        """Assets answer ``path`` before the worker (``run_worker_first`` may be patterns)."""
        return self.assets is not None and not self.assets.worker_first(path)

    async def _call_fetch(
        self, request: Request, ctx: ExecutionContext, event: dict[str, Any], entry: str
    ) -> Response:
        assert self.loaded is not None
        try:
            result: Any
            cls = self.loaded.entrypoints.get(entry)
            if cls is None and entry != "Default":
                raise TypeError(f'Worker "{self.name}" has no entrypoint named "{entry}"')
            fetch_name = self.loaded.method_name("fetch")
            if cls is not None:
                # Only fetch (and test) are relaxed calls (python-entrypoint-helper.ts:466).
                method = getattr(cls(ctx, self.env), fetch_name, None)
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
        except CpuLimitExceeded as exc:
            self.record_exceeded_cpu(exc, event)
            return exceeded_resources_response(request.headers)
        except Exception as exc:  # noqa: BLE001 - report the user's failure, answer 500
            self.record_exception(exc, event)
            return error_response(exc, request.headers, expose=self.expose_errors)

    async def _on_fetch(self, head: FetchHead, call: Call) -> None:
        binding = head.KIND == frames.SERVICE_FETCH
        headers = Headers.from_raw(head.headers)
        event = self.begin(
            trace=head.trace or headers.get("traceparent") or tracing.new_trace_id(),
            method=head.method,
            url=head.url,
            headers=headers,
            client=head.client,
            caller=head.caller if binding else None,
            entrypoint=head.entrypoint if binding else None,
        )
        ctx = self.new_context()
        try:
            body = None if head.method in ("GET", "HEAD") else call.body()
            request = Request(
                head.url, method=head.method, headers=headers, body=body, cf=local_cf()
            )
            response = await self.route(request, ctx, event, head.entrypoint if binding else None)
            event["status"] = response.status
            answer = ResponseHead(response.status, response.headers.raw())
            if head.method == "HEAD" or not response.has_body():
                await call.respond(answer)
            elif response.is_buffered():
                await call.respond(answer, await response.bytes())
            elif not await call.respond(answer, stream=self.metered_body(response, event)):
                event["outcome"] = "canceled"
            await ctx.drain()
        finally:
            self.finish(event)

    async def _on_websocket(self, head: Any, call: Call) -> None:
        from wranglerpy.runtime import websocket_wire

        await websocket_wire.serve(self, head, call)

    # ------------------------------------------------------------------- RPC
    async def _on_rpc(self, head: RpcHead, call: Call) -> None:
        entry = head.entrypoint or "Default"
        event = self.begin(
            trace=head.trace or tracing.new_trace_id(),
            method="RPC",
            url=f"rpc://{self.name}/{head.method}",
            caller=head.caller,
            entrypoint=entry,
        )
        event["rpcMethod"] = head.method
        ctx = self.new_context()
        try:
            result = await self._rpc(entry, head, ctx, event)
            event["status"] = 200 if result.ok else 500
            call.reply(result)
            await ctx.drain()
        finally:
            self.finish(event)

    async def _rpc(
        self, entry: str, head: RpcHead, ctx: ExecutionContext, event: dict[str, Any]
    ) -> Result:
        method = head.method
        if self.load_error is not None:
            return Result(
                False, None, "Error", f"Worker {self.name} failed to load: {self.load_error}"
            )
        cls = self.loaded.entrypoints.get(entry) if self.loaded else None
        if cls is None:
            return Result(
                False, None, "TypeError", f'Worker "{self.name}" has no entrypoint named "{entry}"'
            )
        func = getattr(cls, method, None)
        if method.startswith("_") or method in NOT_RPC or not callable(func):
            return Result(
                False,
                None,
                "TypeError",
                f'The RPC receiver does not implement the method "{method}".',
            )
        try:
            value = getattr(cls(ctx, self.env), method)(*head.args, **head.kwargs)
            if inspect.isawaitable(value):
                value = await drive(value)
            check_rpc_value(value)  # a tuple result is refused, as by the SDK
        except CpuLimitExceeded as exc:
            self.record_exceeded_cpu(exc, event)
            return Result(False, None, "Error", limits.RESOURCE_LIMITS)
        except Exception as exc:  # noqa: BLE001 - the caller gets the type name and message
            self.record_exception(exc, event)
            return Result(False, None, type(exc).__name__, str(exc))
        return Result(True, value)

    # ------------------------------------------------------------- scheduled
    async def _on_scheduled(self, head: ScheduledHead, call: Call) -> None:
        event = self.begin(
            trace=head.trace or tracing.new_trace_id(),
            method="CRON",
            url=f"cron://{self.name}/",
            caller=head.caller,
        )
        event["path"] = head.cron
        ctx = self.new_context()
        try:
            if self.loaded is None:
                raise RuntimeError(f"Worker {self.name} failed to load: {self.load_error}")
            await run_scheduled(self.loaded, self.env, ctx, head.cron, head.scheduled_time, event)
            event["status"] = 200
            call.reply(Result(True, None))
        except CpuLimitExceeded as exc:
            self.record_exceeded_cpu(exc, event)
            call.reply(Result(False, None, "Error", limits.RESOURCE_LIMITS))
        except Exception as exc:  # noqa: BLE001 - reported in the event and to the caller
            own = isinstance(exc, NoScheduledHandler)
            self.record_exception(exc, event, with_stack=not own)
            call.reply(Result(False, None, type(exc).__name__, str(exc)))
        finally:
            self.finish(event)
