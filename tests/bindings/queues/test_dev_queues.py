"""Queues under the real ``wranglerpy dev``: a producer worker and a consumer worker, at-least-
once delivery when the consumer is SIGKILLed mid-batch (its messages come back after a
restart, with ``attempts`` counting the lost delivery), and dead-lettering after
``max_retries`` (workers-sdk packages/miniflare/src/workers/queues/broker.worker.ts)."""

from pathlib import Path

import pytest

from tests.bindings.queues.crash import kill_dev, lines
from tests.waits import wait_until
from wranglerpy.testing import DevServer

pytestmark = pytest.mark.integration

PRODUCER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.method != "POST":
            return Response("POST a task")
        body = await request.text()
        await self.env.JOBS.send({"task": body})
        return Response("queued " + body)
"""

CONSUMER = """
import asyncio


async def on_queue(batch, env):  # the module-level form; test_runner covers Default.queue
    for message in batch.messages:
        body = message.body["task"] if batch.queue == "jobs" else message.body
        with open(env.LOG, "a") as log:
            log.write(f"{batch.queue} {body} {message.attempts}\\n")
        if batch.queue == "jobs" and body == "hang" and message.attempts == 1:
            await asyncio.sleep(3600)  # killed here, mid-batch
        if batch.queue == "jobs" and body == "poison":
            raise ValueError("cannot handle poison")
"""


def project(root: Path, log: Path) -> tuple[Path, Path]:
    (root / "producer").mkdir(parents=True)
    (root / "consumer").mkdir()
    (root / "producer" / "entry.py").write_text(PRODUCER)
    (root / "consumer" / "entry.py").write_text(CONSUMER)
    producer = root / "producer" / "wrangler.toml"
    producer.write_text(
        'name = "api"\nmain = "entry.py"\n\n[[queues.producers]]\nbinding = "JOBS"\n'
        'queue = "jobs"\n'
    )
    consumer = root / "consumer" / "wrangler.toml"
    consumer.write_text(
        f'name = "worker"\nmain = "entry.py"\n\n[vars]\nLOG = "{log}"\n\n'
        '[[queues.consumers]]\nqueue = "jobs"\nmax_batch_size = 1\nmax_batch_timeout = 0\n'
        'max_retries = 1\ndead_letter_queue = "jobs-dlq"\n\n'
        '[[queues.consumers]]\nqueue = "jobs-dlq"\nmax_batch_timeout = 0\n'
    )
    return producer, consumer


def test_consumer_killed_mid_batch_gets_the_message_again(tmp_path: Path) -> None:
    log = tmp_path / "consumed.log"
    producer, consumer = project(tmp_path / "p", log)
    state = tmp_path / "state"
    with DevServer(producer, consumer, persist_to=state, watch=False) as dev:
        assert dev.client("api").post("/", content="hang").text == "queued hang"
        wait_until(lambda: "jobs hang 1" in lines(log), "the first delivery")
        kill_dev(dev)
    # A new dev session on the same state: the unacknowledged message is delivered again.
    with DevServer(producer, consumer, persist_to=state, watch=False):
        wait_until(lambda: "jobs hang 2" in lines(log), "the redelivery")
    assert lines(log) == ["jobs hang 1", "jobs hang 2"]


def test_a_failing_message_goes_to_the_dead_letter_queue(tmp_path: Path) -> None:
    log = tmp_path / "consumed.log"
    producer, consumer = project(tmp_path / "p", log)
    with DevServer(producer, consumer, persist_to=tmp_path / "state", watch=False) as dev:
        dev.client("api").post("/", content="poison")
        dev.client("api").post("/", content="fine")
        wait_until(lambda: any(x.startswith("jobs-dlq") for x in lines(log)), "the dead letter")
        wait_until(lambda: "jobs fine 1" in lines(log), "the good message")

        def batch_lines() -> str:  # printed once a handler has returned, after its log line
            output = dev.output()
            return output if "QUEUE jobs 1/1" in output and "QUEUE jobs-dlq 1/1" in output else ""

        output = wait_until(batch_lines, "dev's line for each batch")  # one line per batch
    got = lines(log)
    assert got.count("jobs poison 1") == 1 and got.count("jobs poison 2") == 1
    assert "jobs-dlq {'task': 'poison'} 1" in got
    assert "cannot handle poison" in output
    assert 'to dead letter queue "jobs-dlq" after 2 failed attempts' in output
