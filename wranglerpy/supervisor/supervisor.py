"""``dev``'s host: one process per worker, reloads one worker at a time, stops them all.

It binds every socket, starts the workers (service-binding targets first), registers them so
service bindings find them, turns file changes into reloads and runs their crons. Processes,
crash restarts and spares are the host's (``wranglerpy.host``), shared with the edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wranglerpy.config.persist import default_persist_dir
from wranglerpy.config.plan import dependency_order, service_target
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.host.http_limits import HttpLimits
from wranglerpy.host.locations import Locations, WorkerLocation
from wranglerpy.host.pool import (
    DEFAULT_BACKOFF,
    Backoff,
    HostedWorker,
    ProcessFactory,
    Spares,
    StartFailed,
)
from wranglerpy.host.process import WorkerProcess
from wranglerpy.host.schedule import CronScheduler, fire_cron
from wranglerpy.host.sockets import bind_tcp
from wranglerpy.logs.hub import LogHub
from wranglerpy.runtime.spec import WorkerSpec
from wranglerpy.supervisor.build import run_build
from wranglerpy.supervisor.migrations import apply_pending_migrations
from wranglerpy.supervisor.python_deps import ensure_dependencies

ConfigReloader = Callable[[WorkerConfig], WorkerConfig]
RETRY_SECONDS = 2.0  # a worker that could not start at all is tried again after this


@dataclass(frozen=True)
class SupervisorOptions:
    ip: str = "127.0.0.1"
    persist_dir: Path | None = None  # None: each worker's default beside its config
    registry_dir: Path | None = None
    log_level: str = "info"
    tail_socket: Path | None = None
    run_build: bool = True
    apply_migrations: bool = True
    http_limits: HttpLimits | None = None  # dev's public ports (--http-limit)
    inspector_ports: tuple[tuple[str, int], ...] = ()  # (worker, debugpy port): --inspector-port


def start_waves(workers: list[WorkerConfig]) -> list[list[WorkerConfig]]:
    """Groups that start one after the other: each worker after its binding targets.

    Workers that bind each other (a cycle) are allowed, as in ``wrangler dev``: the binding
    that closes the cycle does not hold its worker back, and each reaches the other once both
    are up.
    """
    wave_of: dict[str, int] = {}
    for worker in dependency_order(workers, allow_cycles=True):
        targets = [service_target(b, workers) for b in worker.services]
        wave_of[worker.name] = 1 + max(
            (wave_of[t.name] for t in targets if t is not None and t.name in wave_of),
            default=-1,
        )
    waves: list[list[WorkerConfig]] = [[] for _ in range(max(wave_of.values(), default=-1) + 1)]
    for worker in workers:
        waves[wave_of[worker.name]].append(worker)
    return waves


class Supervisor:
    def __init__(
        self,
        workers: list[WorkerConfig],
        ports: dict[str, int],
        hub: LogHub,
        options: SupervisorOptions = SupervisorOptions(),
        *,
        reload_config: ConfigReloader | None = None,
        process_factory: ProcessFactory = WorkerProcess,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self.configs = workers
        self.waves = start_waves(workers)  # binding targets first; a cycle does not hold one back
        self.ports = ports
        self.hub = hub
        self.options = options
        self.registry = Locations(options.registry_dir)
        self.reload_config = reload_config
        self.spares = Spares(process_factory, keep=1)
        self.backoff = backoff
        self.crons = CronScheduler(
            lambda name, cron, ms: fire_cron(self.workers[name].client, hub, name, cron, ms)
        )
        self.workers: dict[str, HostedWorker[None]] = {}  # dev's: no deployed version
        self._stopping = False
        self._claims: contextlib.ExitStack | None = None  # the worker names' registry locks
        self._pid = os.getpid()
        self._python_paths: dict[str, list[Path]] = {}
        self._installs: dict[Path, asyncio.Task[Path | None]] = {}

    # ----------------------------------------------------------------- start
    def claim(self) -> None:
        """Own every worker name in the registry until shutdown; a name another live session
        serves is a UsageError naming it, and nothing is held."""
        if self._claims is None:
            with contextlib.ExitStack() as claims:
                for config in self.configs:
                    claims.callback(os.close, self.registry.claim(config.name))
                self._claims = claims.pop_all()

    async def start(self) -> float:
        """Bind, build, spawn and load every worker, targets first; returns seconds taken."""
        started = time.perf_counter()
        self.claim()
        for index, config in enumerate(self.configs):
            flag = "--port PORT or " if index == 0 else ""
            tcp = bind_tcp(
                self.options.ip,
                self.ports[config.name],
                owner=f'Worker "{config.name}"',
                hint=f"Move it with {flag}--worker-port {config.name}=PORT (or its [dev] port).",
            )
            ip, port = self.options.ip, tcp.getsockname()[1]
            url = f"http://[{ip}]:{port}" if ":" in ip else f"http://{ip}:{port}"
            self.workers[config.name] = HostedWorker(
                config, self.hub, None, tcp=tcp, url=url, spares=self.spares, backoff=self.backoff
            )
        for worker in self.workers.values():
            self._register(worker)
        # The processes are spawned first: they start Python and import the host's side of
        # the runtime while dependencies are checked, migrations applied and builds run.
        async with self.spares.first_start(len(self.workers)):
            await self._prepare()
            for wave in self.waves:
                await asyncio.gather(
                    *(
                        self.workers[c.name].pool.start(self._spec(self.workers[c.name]))
                        for c in wave
                    )
                )
        for worker in self.workers.values():
            self.crons.schedule(worker.name, worker.config.triggers.crons)
        return time.perf_counter() - started

    async def _prepare(self) -> None:
        """What must be done before any worker loads: dependencies, migrations, builds."""
        await asyncio.gather(*(self._install_dependencies(w) for w in self.workers.values()))
        if self.options.apply_migrations:
            await apply_pending_migrations(self.configs, self._persist_dir, self.hub)
        if self.options.run_build:
            builds = [
                run_build(w.config, self.hub)
                for w in self.workers.values()
                if w.config.build.command
            ]
            await asyncio.gather(*builds)

    async def _install_dependencies(self, worker: HostedWorker[None]) -> None:
        root = worker.config.root.resolve()
        # Workers of one project share its pyproject.toml: install once for all of them.
        task = self._installs.get(root)
        if task is None:
            task = asyncio.ensure_future(ensure_dependencies(root, self.hub, worker.name))
            self._installs[root] = task
        path = await task
        self._python_paths[worker.name] = [path] if path is not None else []

    def _persist_dir(self, config: WorkerConfig) -> Path:
        return self.options.persist_dir or default_persist_dir(config.root)

    def _spec(self, worker: HostedWorker[None]) -> WorkerSpec:
        return WorkerSpec(
            config=worker.config,
            persist_dir=self._persist_dir(worker.config),
            registry_dir=self.registry.directory,
            log_level=self.options.log_level,
            python_path=tuple(str(p) for p in self._python_paths.get(worker.name, ())),
            http_limits=self.options.http_limits,
            allowed_hosts=(self.options.ip,),
            inspector_port=dict(self.options.inspector_ports).get(worker.name),
        )

    def _register(self, worker: HostedWorker[None]) -> None:
        tail = str(self.options.tail_socket or "")
        entry = WorkerLocation.of(worker.config, str(worker.path), worker.url, tail=tail)
        self.registry.register(entry)

    # ---------------------------------------------------------------- reload
    async def reload(self, name: str, reason: str = "") -> None:
        """Restart one worker: new process first, then the old one drains and stops."""
        worker = self.workers.get(name)
        if worker is None or self._stopping:
            return
        async with worker.lock:
            self.hub.system(
                f"⎔ Reloading {name}…" + (f" ({reason})" if reason else ""), worker=name
            )
            started = time.perf_counter()
            if self.reload_config is not None:
                try:
                    worker.config = self.reload_config(worker.config)
                except Exception as exc:  # noqa: BLE001 - a broken config keeps the old worker
                    self.hub.system(
                        f"✘ {exc} (still serving the previous version)", worker=name, level="error"
                    )
                    return
            if self.options.run_build and worker.config.build.command:
                if not await run_build(worker.config, self.hub):
                    return
            try:
                await worker.pool.replace(self._spec(worker))
            except StartFailed as exc:
                self.hub.system(f"✘ {exc}", worker=name, level="error")
                if not worker.pool.alive():
                    # Nothing serves its port: keep trying rather than leave clients waiting.
                    asyncio.get_running_loop().call_later(
                        RETRY_SECONDS, lambda: asyncio.ensure_future(self.reload(name, "retry"))
                    )
                return
            self.crons.schedule(name, worker.config.triggers.crons)
            elapsed = (time.perf_counter() - started) * 1000
            self.hub.system(f"⎔ {name} ready ({elapsed:.0f} ms)", worker=name)

    # -------------------------------------------------------------- shutdown
    async def shutdown(self, grace: float = 4.0) -> None:
        """Stop every process (SIGTERM, then SIGKILL after ``grace``); idempotent."""
        if self._stopping:
            return
        self._stopping = True
        self.crons.stop()
        await asyncio.gather(
            self.spares.close(),
            *(w.stop(grace) for w in self.workers.values()),
            return_exceptions=True,
        )
        for worker in self.workers.values():
            self.registry.unregister(worker.name, self._pid)
        if self._claims is not None:
            self._claims.close()

    def kill_all(self) -> None:
        for worker in self.workers.values():
            worker.pool.kill_all()
        self.spares.kill_all()
