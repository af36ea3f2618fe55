"""The dashboard's ASGI app, mounted under :data:`PREFIX` on the services port.

``/`` serves the page, ``/static/...`` its files, ``/api/...`` JSON (every listing bounded),
``/api/stream`` the live events as Server-Sent Events (``id:`` is the event's ``seq``, so a
page that reconnects with ``Last-Event-ID`` misses nothing that is still kept). Requests must
name this machine in ``Host`` (no DNS rebinding) and the console's POST must be JSON (so a
foreign page cannot send it without a CORS preflight, which is never granted).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from importlib import resources as package_files
from pathlib import Path
from typing import Any

from wranglerpy.bindings.d1.sql import D1Error
from wranglerpy.bindings.kv import KVError
from wranglerpy.bindings.r2 import R2Error
from wranglerpy.errors import StateError
from wranglerpy.services.asgi import (
    BodyTooLarge,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    send_response,
)
from wranglerpy.services.dashboard import sql
from wranglerpy.services.dashboard.feed import EventFeed
from wranglerpy.services.dashboard.state import (
    MAX_MESSAGES,
    DashboardError,
    LocalState,
    offset_of,
    page_size,
)
from wranglerpy.services.dashboard.workers import describe_workers
from wranglerpy.services.s3.buckets import Buckets
from wranglerpy.services.spec import ServicesSpec

PREFIX = "/_dashboard"  # "_" is never in an S3 bucket name, so no bucket is hidden by it
PING_S = 15.0
MAX_QUERY_BODY = 200_000
STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "views.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
LOCAL_HOST = re.compile(r"(127\.0\.0\.1|localhost|\[::1\])(:\d+)?", re.IGNORECASE)
SECURITY_HEADERS = [
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
]

Handler = Callable[[Request], Awaitable[Any]]
BINDING_ERRORS = (KVError, R2Error, D1Error, StateError)


def _json(status: int, body: Any) -> Response:
    data = json.dumps(body, default=str).encode()
    return Response(status, [("content-type", "application/json"), *SECURITY_HEADERS], data)


def _error(status: int, message: str) -> Response:
    return _json(status, {"error": message})


class DashboardApp:
    def __init__(self, spec: ServicesSpec, buckets: Buckets) -> None:
        self.spec = spec
        self.state = LocalState(spec.persist_dir, buckets)
        self.feed = EventFeed(Path(spec.tail_socket) if spec.tail_socket else None)
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", "/api/overview"): self.overview,
            ("GET", "/api/events"): self.events,
            ("GET", "/api/kv"): self.kv,
            ("GET", "/api/kv/keys"): self.kv_keys,
            ("GET", "/api/kv/value"): self.kv_value,
            ("GET", "/api/d1"): self.d1,
            ("GET", "/api/d1/tables"): self.d1_tables,
            ("GET", "/api/d1/rows"): self.d1_rows,
            ("POST", "/api/d1/query"): self.d1_query,
            ("GET", "/api/r2"): self.r2,
            ("GET", "/api/r2/objects"): self.r2_objects,
            ("GET", "/api/r2/object"): self.r2_object,
            ("GET", "/api/do"): self.durable_objects,
            ("GET", "/api/do/objects"): self.do_objects,
            ("GET", "/api/do/keys"): self.do_keys,
            ("GET", "/api/queues"): self.queues,
            ("GET", "/api/queues/messages"): self.queue_messages,
            ("GET", "/api/workflows"): self.workflows,
            ("GET", "/api/workflows/instances"): self.workflow_instances,
        }

    async def stop(self) -> None:
        await self.feed.stop()
        self.state.close()

    # ------------------------------------------------------------------ dispatch
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request.from_scope(scope, receive)
        path = request.path[len(PREFIX) :] or "/"
        if not LOCAL_HOST.fullmatch(request.headers.get("host", "")):
            await send_response(send, _error(403, "The dashboard answers only to 127.0.0.1."))
            return
        await self.feed.ready()  # live events from the first visit on
        if path == "/api/stream" and request.method == "GET":
            await self.stream(request, send)
            return
        response = await self._answer(request, path)
        await send_response(send, response, head=request.method == "HEAD")

    async def _answer(self, request: Request, path: str) -> Response:
        if request.method in ("GET", "HEAD") and not path.startswith("/api/"):
            return self.static(path)
        handler = self.routes.get((request.method, path))
        if handler is None:
            if any(p == path for _, p in self.routes):
                return _error(405, f"{request.method} is not allowed on {PREFIX}{path}.")
            return _error(404, f"No dashboard API at {PREFIX}{path}.")
        try:
            return _json(200, await handler(request))
        except DashboardError as exc:
            return _error(exc.status, exc.message)
        except BINDING_ERRORS as exc:  # the binding's own words for a bad key or argument
            return _error(400, str(exc))

    def static(self, path: str) -> Response:
        name = "index.html" if path in ("/", "") else path.removeprefix("/static/")
        kind = STATIC.get(name)
        if kind is None or (path not in ("/", "") and not path.startswith("/static/")):
            return _error(404, f"No dashboard page at {PREFIX}{path}.")
        data = package_files.files(__package__).joinpath("static").joinpath(name).read_bytes()
        return Response(200, [("content-type", kind), *SECURITY_HEADERS], data)

    # ------------------------------------------------------------------- events
    async def overview(self, request: Request) -> Any:
        workers = await asyncio.to_thread(describe_workers, self.spec.workers, self.spec.edge_root)
        return {
            "workers": workers,
            "mode": "edge" if self.spec.edge_root else ("dev" if self.spec.tail_socket else ""),
            "live": self.feed.connected,
            "persist_dir": str(self.spec.persist_dir),
            "seq": self.feed.seq,
        }

    async def events(self, request: Request) -> Any:
        after = offset_of(request.arg("after"))
        limit = page_size(request.arg("limit"), 200)
        return {"events": self.feed.since(after, limit), "seq": self.feed.seq}

    async def stream(self, request: Request, send: Send) -> None:
        last = request.headers.get("last-event-id") or request.arg("after") or "0"
        try:
            after = offset_of(last)
        except DashboardError as exc:
            await send_response(send, _error(400, exc.message))
            return
        backlog, queue = self.feed.open_stream(after)
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
        ]
        gone = asyncio.ensure_future(_disconnected(request.receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            hello = {
                "seq": self.feed.seq,
                "live": self.feed.connected,
                "follows": self.feed.socket_path is not None,  # False: `wranglerpy services`
            }
            await _event(send, "hello", hello)
            for event in backlog:
                await _event(send, "event", event, event["seq"])
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, gone}, timeout=PING_S, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    if gone in done:
                        return
                    await send(
                        {"type": "http.response.body", "body": b": ping\n\n", "more_body": True}
                    )
                    continue
                item = getter.result()
                if item is None:
                    break
                await _event(send, "event", item, item["seq"])
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (ConnectionError, OSError):
            pass
        finally:
            self.feed.close_stream(queue)
            gone.cancel()
            with contextlib.suppress(BaseException):
                await gone

    # ----------------------------------------------------------------------- KV
    async def kv(self, request: Request) -> Any:
        configured = [t for _, rows in self.spec.workers for _, k, t in rows if k == "KV Namespace"]
        return {"namespaces": self.state.kv_namespaces(list(dict.fromkeys(configured)))}

    async def kv_keys(self, request: Request) -> Any:
        return await self.state.kv_keys(
            _required(request, "ns"),
            request.arg("prefix") or "",
            request.arg("cursor"),
            page_size(request.arg("limit"), 100),
        )

    async def kv_value(self, request: Request) -> Any:
        return await self.state.kv_value(_required(request, "ns"), _required(request, "key"))

    # ----------------------------------------------------------------------- D1
    async def d1(self, request: Request) -> Any:
        return {"databases": sql.databases(self.spec.persist_dir, [])}

    async def d1_tables(self, request: Request) -> Any:
        path = sql.database_file(self.spec.persist_dir, _required(request, "db"))
        return {"tables": await asyncio.to_thread(sql.tables, path)}

    async def d1_rows(self, request: Request) -> Any:
        path = sql.database_file(self.spec.persist_dir, _required(request, "db"))
        return await asyncio.to_thread(
            sql.rows,
            path,
            _required(request, "table"),
            offset_of(request.arg("offset")),
            page_size(request.arg("limit"), 50),
        )

    async def d1_query(self, request: Request) -> Any:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise DashboardError('Send the query as JSON: {"db": ..., "sql": ...}.', 415)
        try:
            body = json.loads(await request.body(MAX_QUERY_BODY))
        except BodyTooLarge:
            raise DashboardError(f"The query is larger than {MAX_QUERY_BODY} bytes.", 413) from None
        except ValueError:
            raise DashboardError('The body is not JSON: send {"db": ..., "sql": ...}.') from None
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in ("db", "sql")
        ):
            raise DashboardError('Send {"db": "<database id>", "sql": "SELECT ..."}.')
        path = sql.database_file(self.spec.persist_dir, body["db"])
        return await asyncio.to_thread(sql.query, path, body["sql"])

    # ----------------------------------------------------------------------- R2
    async def r2(self, request: Request) -> Any:
        return {"buckets": self.state.r2_buckets()}

    async def r2_objects(self, request: Request) -> Any:
        return await self.state.r2_objects(
            _required(request, "bucket"),
            request.arg("prefix") or "",
            request.arg("cursor"),
            page_size(request.arg("limit"), 100),
        )

    async def r2_object(self, request: Request) -> Any:
        return await self.state.r2_object(_required(request, "bucket"), _required(request, "key"))

    # ---------------------------------------------------------- Durable Objects
    async def durable_objects(self, request: Request) -> Any:
        return {"namespaces": await asyncio.to_thread(self.state.do_namespaces)}

    async def do_objects(self, request: Request) -> Any:
        return await self.state.do_objects(
            _required(request, "ns"),
            offset_of(request.arg("offset")),
            page_size(request.arg("limit"), 50),
        )

    async def do_keys(self, request: Request) -> Any:
        return await self.state.do_keys(
            _required(request, "ns"),
            _required(request, "id"),
            request.arg("cursor"),
            page_size(request.arg("limit"), 100),
        )

    # ---------------------------------------------------------- queues, workflows
    async def queues(self, request: Request) -> Any:
        return {"queues": await asyncio.to_thread(self.state.queues)}

    async def queue_messages(self, request: Request) -> Any:
        name = _required(request, "queue")
        limit = page_size(request.arg("limit"), 20, MAX_MESSAGES)
        return await asyncio.to_thread(self.state.queue_messages, name, limit)

    async def workflows(self, request: Request) -> Any:
        return {"workflows": await asyncio.to_thread(self.state.workflows)}

    async def workflow_instances(self, request: Request) -> Any:
        name = _required(request, "workflow")
        limit = page_size(request.arg("limit"), 20, MAX_MESSAGES)
        status = request.arg("status")
        return await asyncio.to_thread(self.state.workflow_instances, name, status, limit)


def _required(request: Request, name: str) -> str:
    value = request.arg(name)
    if value is None or value == "":
        raise DashboardError(f"The query parameter {name!r} is missing.")
    return value


async def _event(send: Send, kind: str, data: Any, seq: int | None = None) -> None:
    text = json.dumps(data, default=str)  # one ASCII line: JSON escapes the rest
    head = f"id: {seq}\n" if seq is not None else ""
    body = f"{head}event: {kind}\ndata: {text}\n\n".encode()
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        continue
