"""The processes that serve one worker: start, replace, restart after a crash, drain, stop.

``dev`` keeps one pool per worker (one process; a reload replaces it) and the edge one per
deployed version (N processes on the version's socket; a deploy starts a new pool and drains
the old one). What differs is policy, passed in: the pool size, whether a load error fails
the start (the edge never switches to a version that does not load), the spares, the
restart back-off, and the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from socket import socket
from typing import Any, Generic, TypeVar

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.host.process import ChildExited, EventCallback, WorkerProcess
from wranglerpy.host.sockets import bind_unix
from wranglerpy.logs.hub import LogHub
from wranglerpy.runtime.spec import WorkerSpec
from wranglerpy.wire.client import FrameClient

Process = WorkerProcess  # or any object with its methods (tests pass fakes)
ProcessFactory = Callable[[EventCallback], Process]
Sleep = Callable[[float], Awaitable[None]]
V = TypeVar("V")


class StartFailed(Exception):
    """A worker process did not start, or (when the pool requires it) its code did not load."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class Backoff:
    """Delays between restarts of a process that keeps crashing."""

    first: float = 0.5
    limit: float = 30.0
    reset_after: float = 10.0  # a process that ran this long starts the back-off over

    def after(self, previous: float, uptime: float) -> float:
        if uptime >= self.reset_after:
            return 0.0
        return min(self.limit, max(self.first, previous * 2))


DEFAULT_BACKOFF = Backoff()


class Spares:
    """Warm processes (runtime imported, no worker yet), so a start only imports user code."""

    def __init__(self, factory: ProcessFactory = WorkerProcess, keep: int = 1) -> None:
        self.factory = factory
        self.keep = keep
        self._ready: list[Process] = []
        self._filling: asyncio.Task[None] | None = None
        self._closed = False

    async def take(self) -> Process:
        """A spawned process: a warm spare when one is ready, else a fresh one."""
        # Spares that died while waiting are dropped.
        self._ready = [p for p in self._ready if p.exited is None or not p.exited.done()]
        process = self._ready.pop() if self._ready else await self._spawn(preload=False)
        self.refill()
        return process

    async def _spawn(self, *, preload: bool) -> Process:
        """``preload``: a spare imports the runtime while it waits; a process loaded at once
        imports only what its worker needs (the runtime's unused parts cost it start time)."""
        process = self.factory(lambda _event: None)  # its events matter once a pool takes it
        await process.spawn(preload=preload)
        return process

    @contextlib.asynccontextmanager
    async def first_start(self, count: int) -> AsyncIterator[None]:
        """Around a start of ``count`` workers: one process each is spawned at once (they
        warm up in parallel, later waves included), and no spare is kept until the start is
        over (on a small machine it would take CPU from the workers' own start; after a
        failed start, none: ``dev`` exits)."""
        keep, self.keep = self.keep, 0
        fresh = await asyncio.gather(*(self._spawn(preload=False) for _ in range(count)))
        self._ready.extend(fresh)
        try:
            yield
        finally:
            self.keep = keep
        self.refill()

    def refill(self) -> None:
        if self._closed or self.keep <= len(self._ready):
            return
        if self._filling is None or self._filling.done():
            self._filling = asyncio.ensure_future(self._fill())

    async def _fill(self) -> None:
        while not self._closed and len(self._ready) < self.keep:
            process = await self._spawn(preload=True)
            if self._closed:
                await process.stop()
                return
            self._ready.append(process)

    async def close(self) -> None:
        self._closed = True
        if self._filling is not None and not self._filling.done():
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._filling, 2.0)
        ready, self._ready = self._ready, []
        await asyncio.gather(*(p.stop(1.0) for p in ready), return_exceptions=True)

    def kill_all(self) -> None:
        for process in self._ready:
            process.kill_now()


class WorkerPool:
    """``size`` processes of one worker spec, all serving the same pre-bound sockets."""

    def __init__(
        self,
        name: str,
        fds: Sequence[int],
        hub: LogHub,
        *,
        size: int = 1,
        spares: Spares | None = None,
        require_clean_load: bool = False,
        tag: dict[str, Any] | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.name = name
        self.fds = list(fds)
        self.hub = hub
        self.size = max(1, size)
        self.spares = spares or Spares(keep=0)
        self.require_clean_load = require_clean_load
        self.tag = tag or {}  # added to each request event (the edge: the version id)
        self.backoff = backoff
        self.clock = clock
        self.sleep = sleep
        self.spec: WorkerSpec | None = None
        self.processes: list[Process] = []
        self.modules: frozenset[str] = frozenset()  # the worker's own imported files
        self.stopping = False
        self.inflight = 0  # requests the edge router has open on this pool
        self._idle = asyncio.Event()
        self._idle.set()
        self._started: dict[int, float] = {}
        self._load_errors: dict[int, dict[str, Any]] = {}
        self._delay = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()  # old processes stopping after a replace
        self._watchers: set[asyncio.Task[Any]] = set()

    # ----------------------------------------------------------------- start
    async def start(self, spec: WorkerSpec) -> None:
        """Start every process; on any failure stop those that started and raise StartFailed."""
        self.spec = spec
        self.processes = await self._start_all(spec)

    async def replace(self, spec: WorkerSpec) -> None:
        """New processes first; then the old ones drain and stop (a reload)."""
        fresh = await self._start_all(spec)
        self.spec = spec
        old, self.processes = self.processes, fresh
        for process in old:
            self._keep(process.stop(spec.drain_seconds, handover=True), self._tasks)

    async def _start_all(self, spec: WorkerSpec) -> list[Process]:
        results = await asyncio.gather(
            *(self._start_one(spec) for _ in range(self.size)), return_exceptions=True
        )
        started = [r for r in results if not isinstance(r, BaseException)]
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await asyncio.gather(*(p.stop(1.0) for p in started), return_exceptions=True)
            error = failures[0]
            if isinstance(error, StartFailed):
                raise error
            raise StartFailed(f'Worker "{self.name}" could not start: {error}') from error
        return started

    async def _start_one(self, spec: WorkerSpec) -> Process:
        process = await self.spares.take()
        process.on_event = self._events(process)
        process.name = self.name
        try:
            ready = await process.load(spec, self.fds)
        except (ChildExited, asyncio.TimeoutError, OSError) as exc:
            await process.stop(1.0)
            raise StartFailed(f'Worker "{self.name}" could not start: {exc}.') from None
        error = self._load_errors.pop(id(process), None)
        if error is not None and self.require_clean_load:
            await process.stop(1.0)
            detail = str(error.get("detail") or error.get("message") or "").rstrip()
            raise StartFailed(f'Worker "{self.name}" failed to load.', detail)
        self.modules = frozenset(ready.get("modules") or ())
        self._started[id(process)] = self.clock()
        self._keep(self._watch(process), self._watchers)
        return process

    def _events(self, process: Process) -> EventCallback:
        def on_event(event: dict[str, Any]) -> None:
            kind = event.get("type")
            if kind == "load_error":
                self._load_errors[id(process)] = event
            elif kind == "request" and self.tag:
                event.update(self.tag)
            self.hub.publish(event)

        return on_event

    @staticmethod
    def _keep(coroutine: Awaitable[Any], tasks: set[asyncio.Task[Any]]) -> None:
        """Run ``coroutine`` as a task held in ``tasks`` until it is done."""
        task = asyncio.ensure_future(coroutine)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    # --------------------------------------------------------------- crashes
    async def _watch(self, process: Process) -> None:
        assert process.exited is not None
        code = await process.exited
        if process.stopping or self.stopping or process not in self.processes:
            return
        self.processes.remove(process)
        uptime = self.clock() - self._started.pop(id(process), self.clock())
        self._delay = self.backoff.after(self._delay, uptime)
        self.hub.system(
            f"✘ {self.name}: process {process.pid} exited unexpectedly (code {code}); "
            + (f"restarting in {self._delay:.1f} s" if self._delay else "restarting"),
            worker=self.name,
            level="error",
        )
        while not self.stopping:
            await self.sleep(self._delay)
            if self.stopping or self.spec is None:
                return
            try:
                self.processes.append(await self._start_one(self.spec))
            except StartFailed as exc:
                self._delay = self.backoff.after(self._delay, 0.0)
                self.hub.system(f"✘ {exc}", worker=self.name, level="error")
                continue
            self.hub.system(f"⎔ {self.name} restarted", worker=self.name)
            return

    # ------------------------------------------------------------- stopping
    @contextlib.contextmanager
    def track(self) -> Iterator[None]:
        """Count one request in flight (the edge waits for them before it stops a version)."""
        self.inflight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.inflight -= 1
            if self.inflight == 0:
                self._idle.set()

    async def drain_and_stop(self, settle: float = 0.5) -> None:
        """Wait for tracked requests (bounded by the spec's drain time), then stop gracefully."""
        # Binding callers notice the new registry entry on their next call: give them a beat.
        await self.sleep(settle)
        drain = self.spec.drain_seconds if self.spec is not None else 4.0
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), drain)
        # Binding calls in flight (long streams) get the workers' own drain time after SIGTERM.
        await self.stop(drain + 1.0)

    async def stop(self, grace: float = 5.0) -> None:
        """SIGTERM every process, SIGKILL after ``grace``; idempotent."""
        self.stopping = True
        for watcher in list(self._watchers):
            watcher.cancel()
        stops = [p.stop(grace) for p in self.processes] + list(self._tasks)
        await asyncio.gather(*stops, return_exceptions=True)

    def kill_all(self) -> None:
        for process in self.processes:
            process.kill_now()

    def alive(self) -> bool:
        return any(p.exited is not None and not p.exited.done() for p in self.processes)


class HostedWorker(Generic[V]):
    """One worker in ``dev``, or one deployed ``version`` of it on the edge: its frame socket
    (service bindings, crons and the edge router call through ``client``), in ``dev`` its
    public port, and the pool of processes serving them (``policy``: ``WorkerPool``'s)."""

    def __init__(
        self,
        config: WorkerConfig,
        hub: LogHub,
        version: V,
        *,
        label: str = "",
        tcp: socket | None = None,
        url: str = "",
        **policy: Any,
    ) -> None:
        self.config = config
        self.version = version
        self.sock, self.path = bind_unix(label or config.name)  # its frame socket
        self.client = FrameClient(str(self.path))
        self.tcp = tcp
        self.url = url
        self.lock = asyncio.Lock()
        fds = [self.sock.fileno()] + ([tcp.fileno()] if tcp is not None else [])
        self.pool = WorkerPool(config.name, fds, hub, **policy)

    @property
    def name(self) -> str:
        return self.config.name

    async def stop(self, grace: float = 5.0) -> None:
        try:
            await self.pool.stop(grace)
        finally:
            self.close()

    async def drain_and_stop(self, settle: float = 0.5) -> None:
        """Let the router's requests finish (bounded by the drain time), then stop."""
        await self.pool.drain_and_stop(settle=settle)
        self.close()

    def close(self) -> None:
        self.client.close()
        self.sock.close()
        self.path.unlink(missing_ok=True)
        if self.tcp is not None:
            self.tcp.close()
