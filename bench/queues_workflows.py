"""Local Queues and Workflows speed.

Queues: messages per second from producer to acknowledged consumer, with the producer in
another process (as a producer worker is) and the consumer's delivery loop in this one, over
one fresh SQLite store: ``send()`` one message at a time, and ``sendBatch()`` of 100.
Workflows: the overhead of one ``step.do`` (stored result, lease check) measured on a
200-step instance, and the latency from ``create()`` to ``complete`` for a one-step instance
(dominated by the engine's 0.1 s claim poll).

    .venv/bin/python bench/queues_workflows.py            # 3 runs each, medians
    RUNS=5 MESSAGES=5000 .venv/bin/python bench/queues_workflows.py --json
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wranglerpy.bindings.queues.batch import MessageBatch  # noqa: E402
from wranglerpy.bindings.queues.consumer import QueueConsumerLoop  # noqa: E402
from wranglerpy.bindings.queues.store import QueueStore  # noqa: E402
from wranglerpy.bindings.workflows.binding import WorkflowBinding  # noqa: E402
from wranglerpy.bindings.workflows.engine import EngineOptions, WorkflowEngine  # noqa: E402
from wranglerpy.bindings.workflows.store import WorkflowStore  # noqa: E402
from wranglerpy.config.queues import QueueConsumer  # noqa: E402

RUNS = int(os.environ.get("RUNS", "3"))
MESSAGES = int(os.environ.get("MESSAGES", "2000"))
STEPS = int(os.environ.get("STEPS", "200"))

PRODUCER = """
import asyncio, sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from wranglerpy.bindings.queues.producer import QueueProducerBinding
from wranglerpy.bindings.queues.store import QueueStore

async def main(path, n, batched):
    store = QueueStore(Path(path))
    queue = QueueProducerBinding(store, "bench")
    if batched:
        for start in range(0, n, 100):
            await queue.sendBatch([{"body": {"i": i}} for i in range(start, min(n, start + 100))])
    else:
        for i in range(n):
            await queue.send({"i": i})
    store.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"))
"""


async def queue_run(folder: Path, batched: bool) -> float:
    """Messages/s from the producer process's start to the last acknowledgement."""
    path = folder / f"q-{time.monotonic_ns()}.sqlite"
    store = QueueStore(path)
    done = asyncio.Event()
    acked = 0

    async def handle(batch: MessageBatch) -> None:
        nonlocal acked
        acked += len(batch.messages)
        if acked >= MESSAGES:
            done.set()

    consumer = QueueConsumer("bench", max_batch_size=100, max_batch_timeout=0)
    loop = QueueConsumerLoop(store, consumer, handle, lambda _l, _m: None, poll_seconds=0.01)
    task = asyncio.ensure_future(loop.run())
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PRODUCER, str(path), str(MESSAGES), "1" if batched else "0",
        str(ROOT),
    )  # fmt: skip
    if await proc.wait() != 0:
        raise RuntimeError("the producer process failed")
    await asyncio.wait_for(done.wait(), 300)
    elapsed = time.perf_counter() - start
    loop.stop()
    await task
    store.close()
    return MESSAGES / elapsed


def constant(value: int) -> Any:
    async def step_body() -> int:
        return value

    return step_body


class Chain:
    """A workflow of STEPS trivial steps."""

    def __init__(self, ctx: Any, env: Any) -> None:
        pass

    async def run(self, event: Any, step: Any) -> int:
        total = 0
        for i in range(STEPS):
            total += await step.do(f"step {i}")(constant(i))()
        return total


class Single(Chain):
    async def run(self, event: Any, step: Any) -> int:
        @step.do("only")
        async def only() -> int:
            return 1

        return await only()


async def workflow_run(folder: Path, cls: type) -> float:
    """Seconds from create() to complete."""
    store = WorkflowStore(folder / f"wf-{time.monotonic_ns()}.sqlite")
    engine = WorkflowEngine(store, "bench", lambda: cls(None, {}), lambda _l, _m: None,
                            EngineOptions(poll_seconds=0.1))  # fmt: skip
    task = asyncio.ensure_future(engine.run())
    # The engine is idle and polling, as in a running worker; create at a random point of its
    # 0.1 s poll cycle, so the latency includes the wait for the next poll as users see it.
    await asyncio.sleep(0.3 + random.uniform(0, 0.1))
    binding = WorkflowBinding(store, "bench")
    start = time.perf_counter()
    instance = await binding.create()
    while (status := await instance.status())["status"] != "complete":
        if status["status"] == "errored":
            raise RuntimeError(f"the bench workflow errored: {status['error']}")
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - start
    engine.stop()
    await task
    store.close()
    return elapsed


async def main() -> dict[str, Any]:
    results: dict[str, Any] = {"runs": RUNS, "messages": MESSAGES, "steps": STEPS}
    with tempfile.TemporaryDirectory(prefix="wranglerpy-bench-qwf-") as tmp:
        folder = Path(tmp)
        single = [await queue_run(folder, batched=False) for _ in range(RUNS)]
        batched = [await queue_run(folder, batched=True) for _ in range(RUNS)]
        chain = [await workflow_run(folder, Chain) for _ in range(RUNS)]
        one = [await workflow_run(folder, Single) for _ in range(RUNS * 5)]
    results["queue_send_msgs_per_s_median"] = round(statistics.median(single))
    results["queue_send_batch_msgs_per_s_median"] = round(statistics.median(batched))
    # The one-step latency is mostly the claim poll: take the fastest one-step run (the least
    # poll wait) off the chain's time to get the cost per step.
    per_step = (statistics.median(chain) - min(one)) / (STEPS - 1)
    results["workflow_step_overhead_ms_median"] = round(per_step * 1000, 3)
    results["workflow_create_to_complete_1_step_ms_median"] = round(
        statistics.median(one) * 1000, 1
    )
    return results


if __name__ == "__main__":
    out = asyncio.run(main())
    if "--json" in sys.argv:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:48} {value}")
