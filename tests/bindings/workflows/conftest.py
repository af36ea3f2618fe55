"""An engine running in the test's event loop over a real store, plus the binding."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.waits import await_until
from wranglerpy.bindings.workflows.binding import WorkflowBinding, WorkflowInstance
from wranglerpy.bindings.workflows.engine import EngineOptions, WorkflowEngine
from wranglerpy.bindings.workflows.store import WorkflowStore


class Harness:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = WorkflowStore(path)
        self.binding = WorkflowBinding(self.store, "wf")
        self.logs: list[tuple[str, str]] = []
        self.engines: list[tuple[WorkflowEngine, asyncio.Task[None]]] = []

    def start(self, cls: type, **options: Any) -> WorkflowEngine:
        opts = EngineOptions(poll_seconds=0.02, **options)
        engine = WorkflowEngine(
            self.store, "wf", lambda: cls(None, {}), lambda lvl, m: self.logs.append((lvl, m)), opts
        )
        self.engines.append((engine, asyncio.ensure_future(engine.run())))
        return engine

    async def stop(self) -> None:
        for engine, task in self.engines:
            engine.stop()
            await task
        self.engines = []

    async def until(self, instance: WorkflowInstance, *statuses: str) -> dict[str, Any]:
        """Wait (bounded) until the instance reaches one of ``statuses``."""

        async def reached() -> dict[str, Any] | None:
            status = await instance.status()
            return dict(status) if status["status"] in statuses else None

        return await await_until(reached, f"the instance to be {' or '.join(statuses)}")


@pytest.fixture
async def wf(tmp_path: Path) -> AsyncIterator[Harness]:
    h = Harness(tmp_path / "wf.sqlite")
    yield h
    await h.stop()
    h.store.close()
