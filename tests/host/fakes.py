"""Fake worker processes for the host's unit tests: no fork, no Python start-up, no timing."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from wranglerpy.host.process import ChildExited, EventCallback
from wranglerpy.runtime.spec import WorkerSpec

_pids = itertools.count(1000)


class FakeProcess:
    def __init__(self, factory: FakeFactory, on_event: EventCallback) -> None:
        self.factory = factory
        self.on_event = on_event
        self.name: str | None = None
        self.stopping = False
        self.exited: asyncio.Future[int] | None = None
        self.pid: int | None = None
        self.spec: WorkerSpec | None = None
        self.fds: list[int] = []
        self.stop_grace: float | None = None
        self.stop_handover = False
        self.preload: bool | None = None  # as spawned: a warm spare (True) or loaded at once

    async def spawn(self, *, preload: bool = True) -> None:
        self.exited = asyncio.get_running_loop().create_future()
        self.pid = next(_pids)
        self.preload = preload
        self.factory.log.append(("spawn", self.pid))

    async def load(self, spec: WorkerSpec, fds: list[int]) -> dict[str, Any]:
        assert self.exited is not None
        if self.exited.done():
            raise ChildExited(self.exited.result())
        self.spec, self.fds = spec, list(fds)
        self.factory.log.append(("load", spec.config.name))
        outcome = self.factory.outcomes.pop(0) if self.factory.outcomes else "ok"
        if outcome == "exit":
            self.exited.set_result(1)
            raise ChildExited(1)
        if outcome == "load_error":
            self.on_event({"type": "load_error", "worker": spec.config.name, "detail": "boom"})
        ready = {"type": "ready", "worker": spec.config.name, "modules": ["/src/main.py"]}
        self.on_event(ready)
        return ready

    async def stop(self, grace: float = 5.0, *, handover: bool = False) -> None:
        self.stopping = True
        self.stop_grace = grace
        self.stop_handover = handover
        if self.exited is not None and not self.exited.done():
            self.exited.set_result(0)
        self.factory.log.append(("stop", self.pid))

    def kill_now(self) -> None:
        self.crash(-9)

    def crash(self, code: int = -9) -> None:
        assert self.exited is not None
        if not self.exited.done():
            self.exited.set_result(code)


class FakeFactory:
    """The process factory: ``outcomes`` scripts what the next loads do (ok, load_error, exit)."""

    def __init__(self) -> None:
        self.made: list[FakeProcess] = []
        self.log: list[tuple[str, Any]] = []
        self.outcomes: list[str] = []

    def __call__(self, on_event: EventCallback) -> FakeProcess:
        process = FakeProcess(self, on_event)
        self.made.append(process)
        return process

    def loads(self) -> list[Any]:
        return [item for kind, item in self.log if kind == "load"]


class FakeClock:
    """A monotonic clock the test moves; ``sleep`` records the delay and moves it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def settle(turns: int = 20) -> None:
    """Let the tasks the code under test started run (loop turns, not wall time)."""
    for _ in range(turns):
        await asyncio.sleep(0)
