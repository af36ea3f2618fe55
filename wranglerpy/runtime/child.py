"""Entry point of a worker process:
``python -m wranglerpy.runtime.child <control-fd> [--http] [--no-preload]``.

The process imports the runtime first (``warm.preload``; not with ``--no-preload``, given to a
process the host loads at once) and reports ``warm``; then it waits for a ``load``
message carrying the worker spec and its pre-bound listening sockets (passed as file
descriptors over the control socket): first the unix socket of frame calls (see
``wranglerpy.wire``), then, in ``dev`` only, the public HTTP socket, served by uvicorn
(``host/http_server``).
That split lets the host keep a warm spare process, so a reload only pays for importing the
user's code. It serves until SIGTERM or until the host goes away (control socket EOF); a
reload sends ``HANDOVER_SIGNAL`` instead, so keep-alive clients are handed over, not dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any

from wranglerpy.host.handoff import HANDOVER_SIGNAL, HandoffError, recv_load
from wranglerpy.host.http_limits import HttpLimits, quiet_accept_errors
from wranglerpy.host.locations import Locations
from wranglerpy.runtime import debugger, tracing
from wranglerpy.runtime.app import WorkerApp
from wranglerpy.runtime.console import EventLogHandler, LineWriter
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.events import EventSink, SocketEventSink
from wranglerpy.runtime.host_check import HostCheck
from wranglerpy.runtime.loader import (
    LoadedWorker,
    WorkerLoadError,
    import_worker,
    project_modules,
)
from wranglerpy.runtime.service import ServiceFetcher
from wranglerpy.runtime.spec import WorkerSpec
from wranglerpy.runtime.subrequests import binding_kinds as subrequest_kinds
from wranglerpy.runtime.subrequests import count_bindings
from wranglerpy.runtime.warm import SHIM_DIR, preload, preload_for
from wranglerpy.wire.server import FrameServer

if TYPE_CHECKING:
    from wranglerpy.runtime.assets import AssetServer


class StopRequest:
    """How the process was asked to stop: a plain stop, or a reload's handover."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()  # any stop
        self.immediate = asyncio.Event()  # a plain stop: no handover, or no more of it
        self.handover = False
        self.accepting_stopped = asyncio.Event()  # the HTTP server took no more connections

    def request(self, handover: bool = False) -> None:
        if handover and not self.requested.is_set():
            self.handover = True
        if not handover:
            self.immediate.set()
        self.requested.set()


def _has_durable_objects(config: Any) -> bool:
    """Whether the worker binds or defines Durable Objects: only then is their host imported
    (a sizeable part of a worker's start-up; ``warm.preload`` imports it for spares)."""
    return bool(config.durable_objects or config.migrations)


def build_env(spec: WorkerSpec, sink: EventSink | None = None) -> Env:
    """vars, secrets and every binding of the worker, created in this process."""
    from wranglerpy.bindings.registry import build_storage_bindings

    config = spec.config
    values: dict[str, Any] = dict(config.vars_dict())
    registry = Locations(spec.registry_dir)
    for service in config.services:
        values[service.binding] = ServiceFetcher(service, config.name, registry, mode=spec.mode)

    def report(binding: str, reason: str) -> None:
        if sink is not None:
            message = f"▲ env.{binding} is not available: {reason}"
            sink.emit({"type": "log", "worker": config.name, "level": "warn", "message": message})

    spec.state.export()  # the spec's KV/R2 backends, for every binding built below
    storage = build_storage_bindings(config, spec.persist_dir, report, spec.version)
    if spec.latency is not None:
        from wranglerpy.runtime.latency import binding_kinds, delay_bindings

        storage = delay_bindings(storage, binding_kinds(config), spec.latency)
    if tracing.EXPORTING:  # OTLP export on: each binding call becomes a child span
        from wranglerpy.runtime.latency import binding_kinds
        from wranglerpy.tracing.binding_spans import trace_bindings

        storage = trace_bindings(storage, binding_kinds(config))
    values.update(storage)
    if _has_durable_objects(config):
        from wranglerpy.bindings.durable_objects import build_bindings as build_durable_objects

        values.update(
            build_durable_objects(
                config,
                spec.persist_dir,
                _do_log(sink, config.name),
                sink.emit if sink else None,
                registry_dir=registry.directory,
                mode=spec.mode,
            )
        )
    if config.assets and config.assets.binding:
        from wranglerpy.runtime.assets import AssetServer

        values[config.assets.binding] = AssetFetcher(AssetServer(config.assets))
    # Each binding call is a subrequest of the invocation making it ([limits] subrequests).
    values = count_bindings(values, subrequest_kinds(config))
    return Env(values)


def _do_log(sink: EventSink | None, worker: str) -> Any:
    def log(level: str, message: str) -> None:
        if sink is not None:
            sink.emit({"type": "log", "worker": worker, "level": level, "message": message})

    return log


class AssetFetcher:
    """``env.ASSETS.fetch(request)``: read a static asset from worker code."""

    def __init__(self, server: AssetServer) -> None:
        self._server = server

    async def fetch(self, input: Any, init: Any = None, **kwargs: Any) -> Any:
        from urllib.parse import urlsplit

        from wranglerpy.runtime.request_response import Response, make_request

        request = make_request(input, init, **kwargs)
        found = self._server.lookup(request.method, urlsplit(request.url).path, request.headers)
        return found or Response("Not Found", status=404)


def _install_output_capture(sink: EventSink, worker: str, level: str) -> None:
    sys.stdout = LineWriter(sink, worker, "log")
    sys.stderr = LineWriter(sink, worker, "error")
    root = logging.getLogger()
    root.handlers[:] = [EventLogHandler(sink, worker)]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _prepare_imports(extra_paths: tuple[str, ...] = ()) -> None:
    # The project's vendored dependencies come before site-packages, as on Cloudflare.
    for path in reversed(extra_paths):
        if path not in sys.path:
            sys.path.insert(0, path)
    # `workers`, `asgi`, `js` and `pyodide` are the runtime's, as on Cloudflare: the shim folder
    # goes first, so Cloudflare's own SDK (`workers-runtime-sdk`, which needs Pyodide) in a
    # project's dependencies or in the same virtualenv cannot replace them. Only worker
    # processes see this folder; nothing is installed under these names.
    shim = str(SHIM_DIR)
    if shim in sys.path:
        sys.path.remove(shim)
    sys.path.insert(0, shim)


def make_app(spec: WorkerSpec, sink: EventSink) -> tuple[WorkerApp, float, list[str]]:
    started = time.perf_counter()
    config = spec.config
    from wranglerpy.runtime import current

    current.set_persist_dir(spec.persist_dir)  # the Cache API's entries live there
    loaded: LoadedWorker | None = None
    error: WorkerLoadError | None = None
    try:
        env = build_env(spec, sink)
    except Exception as exc:  # noqa: BLE001 - a binding that cannot start is reported, not fatal
        env = Env(dict(config.vars_dict()))
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        error = WorkerLoadError(str(exc), detail, type(exc).__name__)
    imported_before = set(sys.modules)
    if error is None:
        if config.main is None:
            error = WorkerLoadError(
                f'Worker "{config.name}" has no `main` entry point in its config.'
            )
        else:
            try:
                loaded = import_worker(
                    config.main, config.compatibility_date, config.compatibility_flags
                )
            except WorkerLoadError as exc:
                error = exc
    if loaded is not None and _has_durable_objects(config):
        from wranglerpy.bindings.durable_objects import attach

        attach(config.name, env, loaded.module)
    if error is not None:
        sink.emit(
            {
                "type": "load_error",
                "worker": config.name,
                "message": str(error),
                "detail": error.detail,
            }
        )
    assets = None
    if config.assets:
        from wranglerpy.runtime.assets import AssetServer

        assets = AssetServer(config.assets)
    app = WorkerApp(
        config.name,
        env,
        loaded,
        sink,
        load_error=error,
        assets=assets,
        expose_errors=spec.expose_errors,
        test_paths=spec.mode == "dev",  # on the edge, as on Cloudflare, crons alone run it
        limits=config.limits,  # [limits] cpu_ms and subrequests, enforced per call
    )
    # Only modules this import added can be the worker's own (resolving every path is slow).
    added = [m for name, m in sys.modules.items() if name not in imported_before]
    modules = project_modules(config.main.parent, added) if loaded and config.main else []
    return app, (time.perf_counter() - started) * 1000, modules


async def _serve(
    app: WorkerApp,
    sockets: list[int],
    control: socket.socket,
    sink: EventSink,
    load_ms: float,
    modules: list[str],
    drain_seconds: float = 5.0,
    spec_config: Any = None,
    persist_dir: Any = None,
) -> None:
    loop = asyncio.get_running_loop()
    stopping = StopRequest()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.request)
    loop.add_signal_handler(HANDOVER_SIGNAL, stopping.request, True)

    async def watch_host() -> None:
        control.setblocking(False)
        try:
            while await loop.sock_recv(control, 1024):
                pass
        except OSError:
            pass
        stopping.request()  # the host is gone: do not outlive it

    watcher = asyncio.ensure_future(watch_host())
    calls = FrameServer(app.wire_handlers())
    await calls.start(socket.socket(fileno=sockets[0]))
    objects = sys.modules.get("wranglerpy.bindings.durable_objects")
    if objects is not None:  # imported by build_env only when the worker has objects
        objects.start_hosts()  # alarms set before a restart fire without waiting for a call
    http: asyncio.Future[None] | None = None
    if len(sockets) > 1:
        from wranglerpy.host.http_server import serve as serve_http

        limits: HttpLimits = getattr(app, "http_limits", None) or HttpLimits()
        quiet_accept_errors(loop)
        http = asyncio.ensure_future(serve_http(app, sockets[1], stopping, limits, drain_seconds))
    sink.emit(
        {
            "type": "ready",
            "worker": app.name,
            "load_ms": round(load_ms, 1),
            "pid": os.getpid(),
            "modules": modules,
        }
    )
    # Queue consumers and workflow engines of this worker run beside its server.
    from wranglerpy.bindings.background import start_background, stop_background

    background = start_background(app, spec_config, persist_dir)
    await stopping.requested.wait()
    await stop_background(background)
    # Callers hold pooled connections: the idle ones close at once so their next call
    # reaches the new process; calls in flight may finish.
    closing = asyncio.ensure_future(calls.close(grace=drain_seconds))
    if http is not None:
        await http
    await closing
    pending = [t for t in app.background if not t.done()]
    if pending:
        await asyncio.wait(pending, timeout=5)
    watcher.cancel()


def run_event_loop(main_coroutine: Any) -> Any:
    """uvloop when it is installed (about a third less CPU per request), else asyncio's loop."""
    run: Any = asyncio.run
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        pass
    # Outside the except block: a traceback from worker code must not say "During handling of
    # the above exception (No module named 'uvloop')".
    return run(main_coroutine)


def main(argv: list[str]) -> int:
    control = socket.socket(fileno=int(argv[1]))
    control.setblocking(True)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when we stop
    sink = SocketEventSink(control.fileno())
    # A spare imports the runtime a load would import (its HTTP server too, which imported
    # after "ready" would hold the first requests): a reload then only imports the user's code.
    # A process loaded at once (--no-preload) imports only what its worker needs, after load.
    loaded_at_once = "--no-preload" in argv
    if not loaded_at_once:
        preload(http="--http" in argv)
    sink.emit({"type": "warm", "pid": os.getpid()})
    try:
        received = recv_load(control)  # length-prefixed: a spec of any size arrives whole
    except (OSError, ValueError, HandoffError):
        return 0
    if received is None:
        return 0  # the supervisor closed a spare it no longer needs
    message, fds = received
    request = json.loads(message.decode())
    spec = WorkerSpec.decode(request["spec"])
    if loaded_at_once:  # before the project's own paths come first on sys.path
        preload_for(spec.config, http="--http" in argv)
    _prepare_imports(spec.python_path)
    _install_output_capture(sink, spec.config.name, spec.log_level)
    debugger.start(spec.inspector_port, spec.config.name, sink)  # dev --inspector-port
    app, load_ms, modules = make_app(spec, sink)
    app.http_limits = spec.http_limits or HttpLimits()  # type: ignore[attr-defined]
    app.host_check = HostCheck.for_worker(spec.config, spec.allowed_hosts)  # type: ignore[attr-defined]
    try:
        run_event_loop(
            _serve(
                app,
                list(fds),
                control,
                sink,
                load_ms,
                modules,
                spec.drain_seconds,
                spec.config,
                spec.persist_dir,
            )
        )
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
