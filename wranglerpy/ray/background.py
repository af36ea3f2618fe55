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


def start_background(
    app: Any, config: WorkerConfig, persist_dir: Path, stores: dict[str, RemoteStore]
) -> list[Any]:
    """Start the consumers and engines of ``config`` on the running loop (Serve builds a
    replica on its loop; built outside one, as some tests do, nothing starts)."""
    from wranglerpy.runtime import console

    running: list[Any] = []
    if getattr(app, "loaded", None) is None:
        return running  # the worker failed to load: its requests answer 500s, nothing runs
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return running
    if config.queue_consumers or config.queue_producers:
        from wranglerpy.bindings.queues.runner import start_consumers

        try:
            running += start_consumers(
                config, persist_dir, app, as_queues(stores), lease_seconds=LEASE_SECONDS
            )
        except Exception as exc:  # noqa: BLE001 - the worker still serves requests
            console.record(app.sink, config.name, "error", f"cannot start queue consumers: {exc}")
    if config.workflows:
        from wranglerpy.bindings.workflows.runner import start_engines

        try:
            running += start_engines(
                config, persist_dir, app, as_workflows(stores), lease_seconds=LEASE_SECONDS
            )
        except Exception as exc:  # noqa: BLE001
            console.record(app.sink, config.name, "error", f"cannot start workflow engines: {exc}")
    return running
