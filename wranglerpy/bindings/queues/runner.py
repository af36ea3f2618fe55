"""Start a worker's queue consumers inside its process (called once at worker start-up).

The handler is the worker's own ``queue``: ``Default.queue(self, batch)`` on a
``WorkerEntrypoint``, or a module-level ``on_queue(batch, env, ctx)``; as on Cloudflare, a
worker configured as a consumer without one fails each batch with "Handler does not export a
queue() function." (workerd src/workerd/api/queue.c++).
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wranglerpy.bindings.queues.batch import MessageBatch
from wranglerpy.bindings.queues.consumer import QueueConsumerLoop
from wranglerpy.bindings.queues.store import QueueStore, store_path
from wranglerpy.config.limits import Limits
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.runtime import console, limits
from wranglerpy.runtime.entrypoint import ExecutionContext, relaxed_call


@dataclass
class Running:
    """A background loop and the task running it."""

    loop: QueueConsumerLoop
    task: asyncio.Task[None]

    def stop(self) -> None:
        self.loop.stop()


def find_queue_handler(loaded: Any) -> Any:
    """The ``queue`` handler of a loaded worker: ``(owner class or None, function)``."""
    if loaded is None:
        return None, None
    default = getattr(loaded, "default", None)
    if default is not None and callable(getattr(default, "queue", None)):
        return default, None
    for name in ("on_queue", "queue"):
        func = getattr(getattr(loaded, "module", None), name, None)
        if inspect.isfunction(func):
            return None, func
    return None, None


def make_handler(app: Any) -> Any:
    """An async ``handler(batch)`` calling the worker's ``queue`` with its env and a ctx."""
    owner, func = find_queue_handler(app.loaded)

    async def handle(batch: MessageBatch) -> None:
        if owner is None and func is None:
            raise RuntimeError("Handler does not export a queue() function.")
        ctx = ExecutionContext(getattr(app, "_background_error", None))

        def call() -> Any:
            if owner is not None:
                return relaxed_call(owner(ctx, app.env).queue, batch, app.env, ctx)
            return relaxed_call(func, batch, app.env, ctx)

        # Each batch is an invocation with the worker's [limits] (CPU time, subrequests); one
        # stopped at the CPU limit (its handler or a waitUntil task) fails, and is retried.
        await limits.run_invocation(
            getattr(app, "limits", None) or Limits(),
            call,
            lambda: limits.ExceededCpu(limits.CPU_EXCEEDED),
            settle=ctx.drain,
        )

    return handle


def start_consumers(
    config: WorkerConfig,
    persist_dir: Path,
    app: Any,
    store: QueueStore | None = None,
    **loop_options: Any,
) -> list[Running]:
    """One delivery loop per ``queues.consumers`` entry, plus producer registration (for
    ``wranglerpy queues info``). ``store``: another home for the queues than the persist
    dir's file (the Ray target's primary)."""
    if not config.queue_consumers and not config.queue_producers:
        return []
    if store is None:
        store = QueueStore(store_path(persist_dir))
    for producer in config.queue_producers:
        store.register(producer.queue, config.name, "producer")
    running = []
    handler = make_handler(app)

    def log(level: str, message: str) -> None:
        console.record(app.sink, config.name, level, message)

    def on_batch(info: dict[str, Any]) -> None:
        """One ``request``-kind event per batch, shaped for ``tail`` like Cloudflare's queue
        event (``{"queue", "batchSize"}``) and printed as ``QUEUE jobs 3/3 (12 ms)``."""
        failed = info["outcome"] != "ok"
        app.sink.emit(
            {
                "type": "request",
                "worker": config.name,
                **info["span"],  # trace, span, parent_span (the sender's), start_ns
                "links": info["links"],
                "method": "QUEUE",
                "path": info["queue"],
                "url": "",
                "headers": {},
                "status": 500 if failed else 200,
                "outcome": "exception" if failed else "ok",
                "queue_batch": {k: info[k] for k in ("queue", "batchSize", "acked", "retried")},
                "logs": info["logs"],
                "exceptions": info["exceptions"],
                "duration_ms": info["duration_ms"],
            }
        )

    for consumer in config.queue_consumers:
        store.register(consumer.queue, config.name, "consumer")
        loop = QueueConsumerLoop(store, consumer, handler, log, on_batch=on_batch, **loop_options)
        running.append(Running(loop, asyncio.ensure_future(loop.run())))
    return running
