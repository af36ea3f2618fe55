"""The processes that serve one version of one worker on the edge.

A fleet binds its own pair of unix sockets (HTTP for hypercorn, frames for calls from the
router and from service bindings) and runs ``processes`` worker processes on them; the kernel
spreads connections across them. A new version gets a new fleet, so the old one can drain
on its own sockets while the router and bindings already use the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import time
from pathlib import Path
from typing import Any

from wranglerpy.deploy.upstream import FramePool
from wranglerpy.errors import DeployError
from wranglerpy.logs.hub import LogHub
from wranglerpy.runtime.spec import WorkerSpec
from wranglerpy.supervisor.process import ChildExited, WorkerProcess
from wranglerpy.supervisor.sockets import BACKLOG, runtime_dir

_serial = itertools.count(1)


def bind_unique_unix(label: str) -> tuple[socket.socket, Path]:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)[:40]
    path = runtime_dir() / f"edge-{safe}-{os.getpid()}-{next(_serial)}.sock"
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock, path


class Fleet:
    def __init__(
        self,
        spec: WorkerSpec,
        version_id: str,
        processes: int,
        hub: LogHub,
        *,
        process_factory: type[WorkerProcess] = WorkerProcess,
        client_delay: float = 0.0,
    ) -> None:
        self.spec = spec
        self.name = spec.config.name
        self.version_id = version_id
        self.count = max(1, processes)
        self.process_factory = process_factory
        self.client_delay = client_delay  # seconds the router waits (latency model)
        self.hub = hub
        self.http, self.http_path = bind_unique_unix(f"{self.name}-http")
        self.frames, self.frames_path = bind_unique_unix(self.name)
        self.pool = FramePool(str(self.frames_path))
        self.processes: list[WorkerProcess] = []
        self.stopping = False
        self.inflight = 0  # requests the router has open on this fleet
        self._load_errors: dict[int, dict[str, Any]] = {}
        self._last_crash = 0.0
        self._stop_task: asyncio.Task[None] | None = None

    def _events(self, process: WorkerProcess) -> Any:
        def on_event(event: dict[str, Any]) -> None:
            if event.get("type") == "load_error":
                self._load_errors[id(process)] = event
            if event.get("type") == "request":
                event["version"] = self.version_id
            self.hub.publish(event)

        return on_event

    async def _start_one(self) -> WorkerProcess:
        process = self.process_factory(lambda _e: None)
        process.on_event = self._events(process)
        await process.spawn()
        process.name = self.name
        try:
            await process.load(self.spec, [self.http.fileno(), self.frames.fileno()])
        except (ChildExited, asyncio.TimeoutError, OSError) as exc:
            await process.stop(1.0)
            raise DeployError(f'Worker "{self.name}" could not start: {exc}.') from None
        error = self._load_errors.pop(id(process), None)
        if error is not None:
            await process.stop(1.0)
            detail = str(error.get("detail") or error.get("message") or "").rstrip()
            raise DeployError(
                f'Worker "{self.name}" failed to load; nothing was switched.\n{detail}'
            )
        asyncio.ensure_future(self._watch(process))
        return process

    async def start(self) -> None:
        """Start every process; on any failure stop them all and raise DeployError."""
        results = await asyncio.gather(
            *(self._start_one() for _ in range(self.count)), return_exceptions=True
        )
        started = [r for r in results if isinstance(r, WorkerProcess)]
        failures = [r for r in results if isinstance(r, BaseException)]
        self.processes = started
        if failures:
            await self.stop()
            error = failures[0]
            raise error if isinstance(error, DeployError) else DeployError(str(error))

    async def _watch(self, process: WorkerProcess) -> None:
        assert process.exited is not None
        code = await process.exited
        if process.stopping or self.stopping:
            return
        self.hub.system(
            f"✘ {self.name}: process {process.pid} exited unexpectedly (code {code}); restarting",
            worker=self.name,
            level="error",
        )
        if process in self.processes:
            self.processes.remove(process)
        now = time.monotonic()
        if now - self._last_crash < 1.0:
            await asyncio.sleep(1.0)  # a worker that keeps crashing must not spin the CPU
        self._last_crash = now
        while not self.stopping:
            try:
                self.processes.append(await self._start_one())
                self.hub.system(f"⎔ {self.name} restarted", worker=self.name)
                return
            except DeployError as exc:
                self.hub.system(f"✘ {exc}", worker=self.name, level="error")
                await asyncio.sleep(2.0)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop every process and remove the sockets; concurrent calls wait for the same stop."""
        self.stopping = True
        if self._stop_task is None:
            self._stop_task = asyncio.ensure_future(self._stop(grace))
        await asyncio.shield(self._stop_task)

    async def _stop(self, grace: float) -> None:
        self.pool.close()
        await asyncio.gather(*(p.stop(grace) for p in self.processes), return_exceptions=True)
        for sock, path in ((self.http, self.http_path), (self.frames, self.frames_path)):
            sock.close()
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    async def drain_and_stop(self, settle: float = 0.5, limit: float = 30.0) -> None:
        """Wait for the router's requests on this fleet (bounded), then stop gracefully."""
        # Binding callers notice the new registry entry on their next call: give them a beat.
        await asyncio.sleep(settle)
        deadline = time.monotonic() + limit
        while self.inflight > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        # Binding calls in flight (long streams) get the workers' own drain time after SIGTERM.
        await self.stop(grace=31.0)

    def kill_all(self) -> None:
        for process in self.processes:
            process.kill_now()
