"""Queues and Workflows in a worker's replica on a cluster.

``env.<QUEUE>`` and ``env.<WORKFLOW>`` get the dev bindings over the primary's stores
(``stores.RemoteStore``), and the replica runs the dev delivery loops and workflow engines
beside its calls, as a dev worker process does beside its server: every replica of a
consumer (or of a workflow's worker) polls the primary, whose leases give each batch and each
instance to one replica at a time. A replica that dies with its node stops renewing its
leases; once they run out another replica takes the batch (attempts counted, as after a
crash in dev) or resumes the instance from its last completed step.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.ray.stores import QUEUES, WORKFLOWS, RemoteStore

if TYPE_CHECKING:
    from wranglerpy.bindings.queues.store import QueueStore
    from wranglerpy.bindings.workflows.store import WorkflowStore

# Shorter than dev's 30 s: on a cluster a lease's end is the only sign that its holder's
# node died (dev also checks the holder's pid, which means nothing on another machine).
# Renewed every third of it while a batch or an instance runs.
LEASE_SECONDS = 10.0
RETRY_SECONDS = 2.0


def attach_bindings(
    config: WorkerConfig, values: dict[str, Any], actor: Any = None
) -> dict[str, RemoteStore]:
    """Point the queue producers and workflow bindings in ``values`` (the env) at the
    primary's stores; the stores, by kind (for :func:`start_background`)."""
    from wranglerpy.bindings.queues import QueueProducerBinding
    from wranglerpy.bindings.workflows import WorkflowBinding

    stores = {QUEUES: RemoteStore(QUEUES, actor), WORKFLOWS: RemoteStore(WORKFLOWS, actor)}
    queues, workflows = as_queues(stores), as_workflows(stores)
    for producer in config.queue_producers:
        _close(values.get(producer.binding))  # the dev binding opened a local file
        values[producer.binding] = QueueProducerBinding(
            queues, producer.queue, producer.delivery_delay, producer.default_content_type
        )
    for workflow in config.workflows:
        _close(values.get(workflow.binding))
        values[workflow.binding] = WorkflowBinding(workflows, workflow.name)
    return stores


def as_queues(stores: dict[str, RemoteStore]) -> QueueStore:
    """The remote queue store where the dev code takes a ``QueueStore`` (same methods)."""
    return cast("QueueStore", stores[QUEUES])


def as_workflows(stores: dict[str, RemoteStore]) -> WorkflowStore:
    return cast("WorkflowStore", stores[WORKFLOWS])


def _close(binding: Any) -> None:
    close = getattr(binding, "close", None)
    if callable(close):
        close()


class Starting:
    """Consumers or engines that start once the primary answers: a replica placed while the
    primary is out of reach (restarting after its node died) tries again every
    ``RETRY_SECONDS`` instead of never consuming. ``task`` ends when what it started ends."""

    def __init__(self, what: str, start: Callable[[], list[Any]], log: Callable[[str], None]):
        self.what = what
        self.running: list[Any] = []
        self._start = start
        self._log = log
        self._stopping = asyncio.Event()
        self.task: asyncio.Task[None] = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.running = self._start()
                break
            except Exception as exc:  # noqa: BLE001 - the worker still serves requests
                self._log(f"cannot start {self.what} yet (retrying): {exc}")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), RETRY_SECONDS)
        if self.running:
            await asyncio.gather(*(item.task for item in self.running), return_exceptions=True)

    def stop(self) -> None:
        self._stopping.set()
        for item in self.running:
            item.stop()


def start_background(
    app: Any, config: WorkerConfig, persist_dir: Path, stores: dict[str, RemoteStore]
) -> list[Starting]:
    """Start the consumers and engines of ``config`` on the running loop (Serve builds a
    replica on its loop; built outside one, as some tests do, nothing starts)."""
    from wranglerpy.runtime import console

    running: list[Starting] = []
    if getattr(app, "loaded", None) is None:
        return running  # the worker failed to load: its requests answer 500s, nothing runs
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return running

    def log(message: str) -> None:
        console.record(app.sink, config.name, "error", message)

    if config.queue_consumers or config.queue_producers:
        from wranglerpy.bindings.queues.runner import start_consumers

        queues = as_queues(stores)
        running.append(
            Starting(
                "queue consumers",
                lambda: start_consumers(
                    config, persist_dir, app, queues, lease_seconds=LEASE_SECONDS
                ),
                log,
            )
        )
    if config.workflows:
        from wranglerpy.bindings.workflows.runner import start_engines

        workflows = as_workflows(stores)
        running.append(
            Starting(
                "workflow engines",
                lambda: start_engines(
                    config, persist_dir, app, workflows, lease_seconds=LEASE_SECONDS
                ),
                log,
            )
        )
    return running
