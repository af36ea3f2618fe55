"""The worker-process side: the consumer finds the worker's ``queue`` handler, and each batch
becomes one tail event shaped like Cloudflare's queue event (``{"queue", "batchSize"}``)."""

import asyncio
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tests.waits import await_until
from wranglerpy.bindings.queues import create
from wranglerpy.bindings.queues.runner import start_consumers
from wranglerpy.config.queues import QueueConsumer, QueueProducer
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.logs.tail_format import pretty, to_tail_event
from wranglerpy.runtime.console import LineWriter
from wranglerpy.runtime.entrypoint import WorkerEntrypoint
from wranglerpy.runtime.env import Env
from wranglerpy.runtime.events import ListEventSink


class Default(WorkerEntrypoint):
    async def queue(self, batch: Any) -> None:
        for message in batch.messages:
            print(f"got {message.body} from {batch.queue}")
            if message.body == "bad":
                raise ValueError("bad message")


def app_for(sink: ListEventSink) -> Any:
    loaded = types.SimpleNamespace(default=Default, module=types.ModuleType("entry"))
    return types.SimpleNamespace(loaded=loaded, env=Env({}), sink=sink, name="consumer")


async def test_batches_become_tail_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = ListEventSink()
    monkeypatch.setattr(sys, "stdout", LineWriter(sink, "consumer", "log"))  # as in a worker
    config = WorkerConfig(
        name="consumer",
        config_path=tmp_path / "wrangler.toml",
        main=None,
        queue_consumers=(
            QueueConsumer("jobs", max_batch_size=1, max_batch_timeout=0, max_retries=0),
        ),
    )
    running = start_consumers(config, tmp_path, app_for(sink), poll_seconds=0.01)
    producer = create(QueueProducer("JOBS", "jobs"), tmp_path)
    await producer.send("hello")
    await producer.send("bad")
    await await_until(
        lambda: len([e for e in sink.events if e.get("queue_batch")]) == 2, "both batches"
    )
    batches = [e for e in sink.events if e.get("queue_batch")]
    for item in running:
        item.stop()
    await asyncio.gather(*(item.task for item in running))
    producer.close()
    ok, failed = (to_tail_event(e) for e in batches)
    assert ok["event"] == {"queue": "jobs", "batchSize": 1}
    assert ok["outcome"] == "ok" and ok["logs"][0]["message"] == ["got hello from jobs"]
    assert failed["outcome"] == "exception"
    assert failed["exceptions"][0]["name"] == "ValueError"
    assert "Queue jobs (1 messages)" in pretty(ok)
    assert any("Dropped message" in str(e.get("message")) for e in sink.events)
