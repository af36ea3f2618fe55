"""The object host of one worker process: one live instance per object id, events, eviction.

Every call reaching an object (``stub.fetch``, RPC, an alarm, a hibernated socket's message)
goes through :meth:`ObjectHost.run_event`: construct the object if it is not in memory, wait
for the input gate, run the handler, then pass the output gate (commit the writes it made)
before the result leaves. Idle objects are evicted after ``idle_timeout`` seconds (memory is
lost, storage is kept; the constructor runs again on the next event).

This host serves the classes its own worker defines, in its own process. Routing a call to
the one process that hosts an object, when a deployment runs several, belongs to the worker
host's registry and wire (see the package README).
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import time
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from wranglerpy.bindings.durable_objects.alarms import AlarmScheduler, retry_delay
from wranglerpy.bindings.durable_objects.hibernation import SocketRegistry
from wranglerpy.bindings.durable_objects.ids import DurableObjectId, IdFactory, unique_key
from wranglerpy.bindings.durable_objects.instance import LiveObject, ObjectKey
from wranglerpy.bindings.durable_objects.metadata import Metadata
from wranglerpy.bindings.durable_objects.routing import (
    Courier,
    LocalOnly,
    Locator,
    decode_call,
    encode_result,
)
from wranglerpy.config.limits import Limits
from wranglerpy.runtime import limits, tracing, websocket
from wranglerpy.runtime.request_response import Request

DEFAULT_IDLE_TIMEOUT = 70.0  # Cloudflare evicts an idle object after 70-140 s
IDLE_ENV = "WRANGLERPY_DO_IDLE_TIMEOUT"
TAIL_BATCH_DELAY = 0.02  # tail/log lines of object events may trail their events by this much

current_object: contextvars.ContextVar[LiveObject | None] = contextvars.ContextVar(
    "wranglerpy_do_current", default=None
)


@dataclass
class ClassInfo:
    name: str
    sqlite: bool
    namespace: str  # the unique key: "<worker>-<class>"
    cls: type | None = None


def _on_accept(ws: Any) -> None:
    live = current_object.get()
    if live is not None:
        live.host.sockets.accepted_plain(live.key, ws)


websocket.accept_hook = _on_accept


def idle_timeout_from_env() -> float:
    raw = os.environ.get(IDLE_ENV)
    try:
        return float(raw) if raw else DEFAULT_IDLE_TIMEOUT
    except ValueError:
        return DEFAULT_IDLE_TIMEOUT


class ObjectHost:
    def __init__(
        self,
        worker: str,
        persist_dir: Path,
        classes: dict[str, bool],
        *,
        idle_timeout: float | None = None,
        alarm_retry_delay: Callable[[int], float] = retry_delay,
        log: Callable[[str, str], None] | None = None,
        emit: Callable[[dict[str, Any]], None] | None = None,
        locator: Locator | None = None,
        courier: Courier | None = None,
        ownership: Any = None,
    ) -> None:
        self.worker = worker
        self.persist_dir = persist_dir
        self.classes = {
            name: ClassInfo(name, sqlite, unique_key(worker, name))
            for name, sqlite in classes.items()
        }
        self._by_namespace = {info.namespace: info for info in self.classes.values()}
        self._factories: dict[str, IdFactory] = {}
        self.idle_timeout = idle_timeout_from_env() if idle_timeout is None else idle_timeout
        self.metadata = Metadata(persist_dir)
        self.alarms = AlarmScheduler(self, alarm_retry_delay)
        self.sockets = SocketRegistry(self)
        self.live: dict[ObjectKey, LiveObject] = {}
        self.env: Any = None
        self.limits = Limits()  # the worker's [limits], per event (set by build_bindings)
        self._log = log
        self._emit = emit
        self._tail_events: list[dict[str, Any]] = []
        self.locator: Locator = locator or LocalOnly()
        self.courier = courier
        self.ownership = ownership  # remote.Ownership when calls may cross processes
        for info in self.classes.values():
            if ownership is not None:
                ownership.may_host(info.namespace)
        self._tasks: set[asyncio.Future[Any]] = set()
        self._background: list[asyncio.Future[Any]] = []
        self.constructed = 0
        self._server: Any = None

    # --- set-up ------------------------------------------------------------------------

    def bind_module(self, module: ModuleType) -> None:
        """Find each declared class in the worker's main module."""
        for info in self.classes.values():
            value = getattr(module, info.name, None)
            info.cls = value if isinstance(value, type) else None

    def missing_classes(self) -> list[str]:
        return [name for name, info in self.classes.items() if info.cls is None]

    def factory(self, class_name: str) -> IdFactory:
        factory = self._factories.get(class_name)
        if factory is None:
            factory = IdFactory(unique_key(self.worker, class_name))
            self._factories[class_name] = factory
        return factory

    def namespaces(self) -> list[str]:
        """The namespaces whose objects (and alarms) run in this process."""
        return [
            info.namespace
            for info in self.classes.values()
            if info.cls is not None
            and (self.ownership is None or self.ownership.owns(info.namespace))
        ]

    def class_for_namespace(self, namespace: str) -> ClassInfo | None:
        return self._by_namespace.get(namespace)

    def start(self) -> None:
        """Start the alarm scheduler and the eviction sweep (once, on the running loop)."""
        if self._background:
            return
        self._background = [
            asyncio.ensure_future(self.alarms.run()),
            asyncio.ensure_future(self._sweep()),
        ]
        serves_wire = getattr(self.ownership, "serves_wire", True)
        if (
            self.ownership is not None
            and serves_wire
            and self.classes
            and self.ownership.socket_path is None
        ):
            from wranglerpy.bindings.durable_objects.remote import bind_socket, frame_server

            sock, path = bind_socket()
            self.ownership.socket_path = path
            self._server = frame_server(self)
            self._background.append(asyncio.ensure_future(self._server.start(sock)))

    async def stop(self) -> None:
        self.flush_tail()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background = []
        if self._server is not None:
            await self._server.close(grace=1.0)
            self._server = None
        if self.ownership is not None:
            self.ownership.release()
            if self.ownership.socket_path is not None:
                Path(self.ownership.socket_path).unlink(missing_ok=True)
        for live in list(self.live.values()):
            self.evict(live)
        self.metadata.close()

    # --- objects -----------------------------------------------------------------------

    def live_object(self, class_name: str, object_id: DurableObjectId) -> LiveObject | None:
        return self.live.get((class_name, object_id.toString()))

    def _get_or_create(self, class_name: str, object_id: DurableObjectId) -> LiveObject:
        key = (class_name, object_id.toString())
        live = self.live.get(key)
        if live is not None:
            return live
        info = self.classes.get(class_name)
        if info is None or info.cls is None:
            raise TypeError(
                "Your Worker depends on the following Durable Objects, which are not exported "
                f"in your entrypoint file: {class_name}."
            )
        live = LiveObject(self, info, object_id)
        token = current_object.set(live)
        try:
            live.construct()
        except BaseException:
            live.close()
            raise
        finally:
            current_object.reset(token)
        self.live[key] = live
        self.constructed += 1
        return live

    async def run_event(
        self,
        class_name: str,
        object_id: DurableObjectId,
        name: str,
        fn: Callable[[Any], Any],
        detail: dict[str, Any] | None = None,
    ) -> Any:
        """Deliver one event to the object and return its result once its writes are durable."""
        started = time.perf_counter()
        span = tracing.Nested()  # the event is a span under the caller's (traceparent)
        error: BaseException | None = None
        try:
            return await self._run(class_name, object_id, fn)
        except BaseException as exc:
            error = exc
            raise
        finally:
            span.close()
            if self._emit is not None:
                event = tail_event(self.worker, class_name, object_id, name, detail, error, started)
                self._tail(event | span.fields())

    async def _run(
        self, class_name: str, object_id: DurableObjectId, fn: Callable[[Any], Any]
    ) -> Any:
        self.start()
        live = self._get_or_create(class_name, object_id)
        await live.gate.enter()
        live.inflight += 1
        token = current_object.set(live)
        try:
            result = await _invoke(live, fn, self.limits)
        finally:
            current_object.reset(token)
            live.inflight -= 1
            live.last_used = time.monotonic()
        if not live.broken:
            try:
                live.storage.flush()  # the output gate
            except Exception:
                live.abort()
                raise
        return result

    async def handle_call(
        self, class_name: str, object_id: str, name: str | None, call: bytes
    ) -> bytes:
        """Run a call that another process routed here (see routing.py); never raises."""
        from wranglerpy.bindings.durable_objects.clone import rpc_clone
        from wranglerpy.bindings.durable_objects.namespace import invoke_fetch, invoke_method

        try:
            oid = self.factory(class_name).from_string(object_id, name)
            decoded = decode_call(call)
            if decoded[0] == "fetch":
                _, method, url, headers, body = decoded
                request = Request(url, method=method, headers=headers, body=body or None)
                response = await self.run_event(
                    class_name, oid, "fetch", lambda inst: invoke_fetch(inst, request)
                )
                if getattr(response, "webSocket", None) is not None:
                    raise TypeError(
                        "A WebSocket cannot be returned across processes yet: connect to the "
                        "process that owns this Durable Object."
                    )
                return encode_result(
                    [response.status, list(response.headers.items()), await response.bytes()]
                )
            _, method, args, kwargs = decoded
            result = await self.run_event(
                class_name, oid, method, lambda inst: invoke_method(inst, method, args, kwargs)
            )
            return encode_result(rpc_clone(result))
        except Exception as exc:  # noqa: BLE001 - the caller gets it back, typed by name
            return encode_result(error=exc)

    def flush(self, key: ObjectKey) -> None:
        live = self.live.get(key)
        if live is not None and not live.broken:
            live.storage.flush()

    def discard(self, live: LiveObject) -> None:
        if self.live.get(live.key) is live:
            del self.live[live.key]
        live.close()

    def evict(self, live: LiveObject) -> None:
        self.discard(live)

    def evict_idle(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        evicted = 0
        for live in list(self.live.values()):
            idle = live.idle_for(now)
            if idle is not None and idle >= self.idle_timeout:
                self.evict(live)
                evicted += 1
                if self._log is not None:
                    name, object_id = live.key
                    self._log("debug", f"Durable Object {name}:{object_id[:12]}… evicted (idle)")
        return evicted

    async def _sweep(self) -> None:
        interval = max(0.05, min(self.idle_timeout / 4, 5.0))
        while True:
            await asyncio.sleep(interval)
            self.evict_idle()

    # --- helpers -----------------------------------------------------------------------

    def _tail(self, event: dict[str, Any]) -> None:
        """Report an event a little later, with the others of that moment: the result leaves
        first, and a busy object costs the supervisor one wake-up per batch, not per event."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            self._tail_events.append(event)
            self.flush_tail()
            return
        self._tail_events.append(event)
        if len(self._tail_events) == 1:
            loop.call_later(TAIL_BATCH_DELAY, self.flush_tail)

    def flush_tail(self) -> None:
        """Report the events held back by :meth:`_tail` now."""
        events, self._tail_events = self._tail_events, []
        if self._emit is not None:
            for event in events:
                self._emit(event)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def report_error(self, error: BaseException) -> None:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        if self._log is not None:
            self._log("error", text.rstrip())
        else:
            print(text.rstrip())

    def log_warning(self, message: str) -> None:
        if self._log is not None:
            self._log("warn", message)
        else:
            print(message)


async def _invoke(live: LiveObject, fn: Callable[[Any], Any], budget: Limits) -> Any:
    """One event as its own invocation, with the worker's ``[limits]`` (CPU time and
    subrequests), as Cloudflare limits each request to a Durable Object; an object that runs
    out of CPU time is reset (its unflushed writes dropped) and the caller gets an error."""
    from wranglerpy.bindings.durable_objects.errors import Error

    def exceeded() -> BaseException:
        live.abort()
        return Error(limits.RESOURCE_LIMITS)

    return await limits.run_invocation(budget, lambda: fn(live.instance), exceeded)


def tail_event(
    worker: str,
    class_name: str,
    object_id: DurableObjectId,
    name: str,
    detail: dict[str, Any] | None,
    error: BaseException | None,
    started: float,
) -> dict[str, Any]:
    """A ``request`` event for dev's log and ``tail``: the class is the entrypoint, and the
    event is the fetch, the RPC method (WebSocket handlers too) or the alarm."""
    event: dict[str, Any] = {
        "type": "request",
        "worker": worker,
        "entrypoint": class_name,
        "durableObjectId": object_id.toString(),
        "method": class_name,
        "path": f"{name}() {object_id.toString()[:8]}",
        "status": 500 if error is not None else 200,
        "outcome": "exception" if error is not None else "ok",
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "headers": {},
        "logs": [],
        "exceptions": [],
    }
    if error is not None:
        event["exceptions"].append({"name": type(error).__name__, "message": str(error)})
    if detail:
        event.update(detail)
    elif name != "fetch":
        event["rpcMethod"] = name
    return event
