"""Cloudflare Queues, locally.

State: ``<persist_dir>/queues/queues.sqlite``, one file for every queue, so producers and
consumers in different workers (and the CLI) share it, and a move to a dead-letter queue is
one transaction. ``create_producer`` gives the object behind ``env.<QUEUE>``;
``start_consumers`` runs the delivery loops of a worker's ``queues.consumers`` in its process.
"""

from __future__ import annotations

from pathlib import Path

from wranglerpy.bindings.queues.producer import QueueProducerBinding, QueueSendError
from wranglerpy.bindings.queues.store import QueueStore, store_path
from wranglerpy.config.queues import QueueProducer

__all__ = ["QueueProducerBinding", "QueueSendError", "QueueStore", "create", "open_store"]


def open_store(persist_dir: Path) -> QueueStore:
    return QueueStore(store_path(persist_dir))


def create(config: QueueProducer, persist_dir: Path, worker: str = "") -> QueueProducerBinding:
    store = open_store(persist_dir)
    if worker:
        store.register(config.queue, worker, "producer")
    return QueueProducerBinding(
        store, config.queue, config.delivery_delay, config.default_content_type
    )
