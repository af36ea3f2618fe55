"""Background work a worker process runs beside its server: queue consumers and workflow
engines. Started once the worker is loaded, stopped before the process exits; both keep their
state in SQLite under the persist dir, so nothing here depends on the inter-process wire."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any, Protocol

from wranglerpy.config.schema import WorkerConfig


class Background(Protocol):
    task: asyncio.Task[None]

    def stop(self) -> None: ...


def start_background(app: Any, config: WorkerConfig | None, persist_dir: Path | None) -> list[Any]:
    if config is None or persist_dir is None or getattr(app, "loaded", None) is None:
        return []
    from wranglerpy.runtime import console

    running: list[Any] = []
    wanted = []
    # Imported only when configured, so other workers' start-up pays nothing for them.
    if config.queue_consumers or config.queue_producers:
        wanted.append(("wranglerpy.bindings.queues.runner", "start_consumers"))
    if config.workflows:
        wanted.append(("wranglerpy.bindings.workflows.runner", "start_engines"))
    for module, name in wanted:
        try:
            start = getattr(importlib.import_module(module), name)
            running += start(config, Path(persist_dir), app)
        except Exception as exc:  # noqa: BLE001 - the worker still serves requests
            console.record(app.sink, config.name, "error", f"cannot start {name}: {exc}")
    return running


async def stop_background(running: list[Any], grace: float = 10.0) -> None:
    for item in running:
        item.stop()
    tasks = [item.task for item in running]
    if tasks:
        await asyncio.wait(tasks, timeout=grace)
