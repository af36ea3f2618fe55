"""The supervisor: one process per worker, reloads one worker at a time, stops them all.

It binds every socket, spawns the worker processes, registers them in the dev registry so
service bindings find them, turns file changes into reloads, and restarts crashed workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from socket import socket
from typing import Any

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.logs.hub import LogHub
from wranglerpy.registry.dev_registry import DevRegistry, WorkerEntry
from wranglerpy.runtime.spec import WorkerSpec
from wranglerpy.supervisor.build import run_build
from wranglerpy.supervisor.migrations import apply_pending_migrations
from wranglerpy.supervisor.process import ChildExited, WorkerProcess
from wranglerpy.supervisor.python_deps import ensure_dependencies
from wranglerpy.supervisor.sockets import bind_tcp, bind_unix

ConfigReloader = Callable[[WorkerConfig], WorkerConfig]


@dataclass
class ManagedWorker:
    config: WorkerConfig
    ip: str
    port: int
    tcp: socket
    uds: socket
    uds_path: Path
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: WorkerProcess | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    modules: frozenset[str] = frozenset()  # the worker's own imported files, once loaded
    last_crash: float = 0.0

    @property
    def name(self) -> str:
        return self.config.name

    def alive(self) -> bool:
        proc = self.process.proc if self.process is not None else None
        return proc is not None and proc.returncode is None

    @property
    def url(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"http://{host}:{self.port}"


@dataclass(frozen=True)
class SupervisorOptions:
    ip: str = "127.0.0.1"
    persist_dir: Path | None = None  # None: each worker's default beside its config
    registry_dir: Path | None = None
    mode: str = "dev"
    expose_errors: bool = True
    log_level: str = "info"
    tail_socket: Path | None = None
    run_build: bool = True
    keep_spare: bool = True
    apply_migrations: bool = True


class Supervisor:
    def __init__(
        self,
        workers: list[WorkerConfig],
        ports: dict[str, int],
        hub: LogHub,
        options: SupervisorOptions = SupervisorOptions(),
        *,
        reload_config: ConfigReloader | None = None,
        default_persist_dir: Callable[[WorkerConfig], Path] | None = None,
    ) -> None:
        self.configs = workers
        self.ports = ports
        self.hub = hub
        self.options = options
        self.registry = DevRegistry(options.registry_dir)
        self.reload_config = reload_config
        self._default_persist = default_persist_dir
        self.workers: dict[str, ManagedWorker] = {}
        self._spare: WorkerProcess | None = None
        self._spare_task: asyncio.Task[Any] | None = None
        self._stopping = False
        self._pid = os.getpid()
        self._python_paths: dict[str, list[Path]] = {}
        self._installs: dict[Path, asyncio.Task[Path | None]] = {}

    # ----------------------------------------------------------------- start
    async def start(self) -> float:
        """Bind, build, spawn and load every worker concurrently; returns seconds taken."""
        started = time.perf_counter()
        for config in self.configs:
            ip = self.options.ip
            tcp = bind_tcp(ip, self.ports[config.name])
            uds, uds_path = bind_unix(config.name)
            port = tcp.getsockname()[1]
            self.workers[config.name] = ManagedWorker(config, ip, port, tcp, uds, uds_path)
        for worker in self.workers.values():
            self._register(worker)
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
        await asyncio.gather(
            *(self._launch(w, self._fresh_process()) for w in self.workers.values())
        )
        if self.options.keep_spare:
            self._refill_spare()
        return time.perf_counter() - started

    async def _install_dependencies(self, worker: ManagedWorker) -> None:
        root = worker.config.root.resolve()
        # Workers of one project share its pyproject.toml: install once for all of them.
        task = self._installs.get(root)
        if task is None:
            task = asyncio.ensure_future(ensure_dependencies(root, self.hub, worker.name))
            self._installs[root] = task
        path = await task
        self._python_paths[worker.name] = [path] if path is not None else []

    def _fresh_process(self) -> WorkerProcess:
        return WorkerProcess(self.hub.publish)

    def _persist_dir(self, config: WorkerConfig) -> Path:
        if self.options.persist_dir is not None:
            return self.options.persist_dir
        if self._default_persist is not None:
            return self._default_persist(config)
        from wranglerpy.config.state import default_persist_dir

        return default_persist_dir(config.root)

    def _spec(self, worker: ManagedWorker) -> WorkerSpec:
        return WorkerSpec(
            config=worker.config,
            persist_dir=self._persist_dir(worker.config),
            registry_dir=self.registry.directory,
            token=worker.token,
            mode=self.options.mode,
            expose_errors=self.options.expose_errors,
            log_level=self.options.log_level,
            python_path=tuple(str(p) for p in self._python_paths.get(worker.name, ())),
        )

    async def _launch(self, worker: ManagedWorker, process: WorkerProcess) -> dict[str, Any]:
        if process.proc is None:
            await process.spawn()
        process.name = worker.name
        ready = await process.load(self._spec(worker), [worker.tcp.fileno(), worker.uds.fileno()])
        worker.modules = frozenset(ready.get("modules") or ())
        old, worker.process = worker.process, process
        asyncio.ensure_future(self._watch_exit(worker, process))
        if old is not None:
            asyncio.ensure_future(old.stop())
        return ready

    def _register(self, worker: ManagedWorker) -> None:
        self.registry.register(
            WorkerEntry(
                name=worker.name,
                base_name=worker.config.base_name or worker.name,
                env=worker.config.env_name,
                socket=str(worker.uds_path),
                url=worker.url,
                token=worker.token,
                pid=self._pid,
                mode=self.options.mode,
                tail=str(self.options.tail_socket or ""),
            )
        )

    # ----------------------------------------------------------------- spare
    def _refill_spare(self) -> None:
        if self._stopping or not self.options.keep_spare:
            return
        if self._spare_task is None or self._spare_task.done():
            self._spare_task = asyncio.ensure_future(self._make_spare())

    async def _make_spare(self) -> None:
        process = self._fresh_process()
        await process.spawn()
        if self._stopping:
            await process.stop()
            return
        self._spare = process

    async def _take_process(self) -> WorkerProcess:
        spare, self._spare = self._spare, None
        if spare is None or (spare.proc is not None and spare.proc.returncode is not None):
            spare = self._fresh_process()
        self._refill_spare()
        return spare

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
                await self._launch(worker, await self._take_process())
            except (ChildExited, asyncio.TimeoutError, OSError):
                # The spare may have died with the crash being handled: once more, fresh.
                try:
                    await self._launch(worker, self._fresh_process())
                except (ChildExited, asyncio.TimeoutError, OSError) as exc:
                    self.hub.system(f"✘ {name} failed to start: {exc}", worker=name, level="error")
                    if not worker.alive():
                        # Nothing serves its port: keep trying rather than leave clients waiting.
                        asyncio.get_running_loop().call_later(
                            2.0, lambda: asyncio.ensure_future(self.reload(name, "retry"))
                        )
                    return
            elapsed = (time.perf_counter() - started) * 1000
            self.hub.system(f"⎔ {name} ready ({elapsed:.0f} ms)", worker=name)

    async def _watch_exit(self, worker: ManagedWorker, process: WorkerProcess) -> None:
        assert process.exited is not None
        code = await process.exited
        if process.stopping or self._stopping or worker.process is not process:
            return
        self.hub.system(
            f"✘ {worker.name} exited unexpectedly (code {code}); restarting",
            worker=worker.name,
            level="error",
        )
        now = time.monotonic()
        if now - worker.last_crash < 1.0:
            await asyncio.sleep(1.0)  # a worker that keeps crashing must not spin the CPU
        worker.last_crash = now
        await self.reload(worker.name, "crash")

    # -------------------------------------------------------------- shutdown
    async def shutdown(self, grace: float = 4.0) -> None:
        """Stop every process (SIGTERM, then SIGKILL after ``grace``); idempotent."""
        if self._stopping:
            return
        self._stopping = True
        if self._spare_task is not None and not self._spare_task.done():
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._spare_task, 2.0)
        processes = [w.process for w in self.workers.values() if w.process is not None]
        if self._spare is not None:
            processes.append(self._spare)
        await asyncio.gather(*(p.stop(grace) for p in processes), return_exceptions=True)
        for worker in self.workers.values():
            self.registry.unregister(worker.name, self._pid, self.options.mode)
            worker.tcp.close()
            worker.uds.close()
            with contextlib.suppress(FileNotFoundError):
                worker.uds_path.unlink()

    def kill_all(self) -> None:
        for worker in self.workers.values():
            if worker.process is not None:
                worker.process.kill_now()
        if self._spare is not None:
            self._spare.kill_now()
