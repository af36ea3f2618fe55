"""The delivery loop of one consumer, run inside the consumer worker's own process.

It leases due batches from the queue store, calls the worker's ``queue`` handler and settles
each batch in one transaction. Several processes of one worker (the local edge) may run the
loop for the same queue: the store's leases give each message to one of them at a time.
Batches follow miniflare's broker (workers-sdk packages/miniflare/src/workers/queues/
broker.worker.ts): a batch goes when ``max_batch_size`` messages are ready or when the oldest
has waited ``max_batch_timeout``; a failed message comes back after ``retry_delay`` until
``max_retries`` retries are spent, then goes to the dead-letter queue or is dropped.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable

from wranglerpy.bindings.queues.batch import MessageBatch
from wranglerpy.bindings.queues.store import Lease, QueueStore
from wranglerpy.config.queues import QueueConsumer
from wranglerpy.runtime import console, tracing

Handler = Callable[[MessageBatch], Awaitable[None]]
Log = Callable[[str, str], None]  # (level, message)
OnBatch = Callable[[dict[str, object]], None]

LEASE_SECONDS = 30.0  # renewed while the handler runs; a dead holder is noticed sooner by pid
POLL_SECONDS = 0.05


class QueueConsumerLoop:
    def __init__(
        self,
        store: QueueStore,
        consumer: QueueConsumer,
        handler: Handler,
        log: Log,
        *,
        on_batch: OnBatch | None = None,
        lease_seconds: float = LEASE_SECONDS,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._store = store
        self._consumer = consumer
        self._handler = handler
        self._log = log
        self._on_batch = on_batch
        self._lease_seconds = lease_seconds
        self._poll = poll_seconds
        self._stop = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._limit = consumer.max_concurrency or 250

    @property
    def max_attempts(self) -> int:
        return self._consumer.max_retries + 1

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        c = self._consumer
        while not self._stop.is_set():
            wait = self._poll
            if len(self._inflight) < self._limit:
                try:
                    lease = self._store.lease(
                        c.queue,
                        max_batch=c.max_batch_size,
                        batch_timeout=c.max_batch_timeout,
                        max_attempts=self.max_attempts,
                        dead_letter_queue=c.dead_letter_queue,
                        lease_seconds=self._lease_seconds,
                        max_concurrency=c.max_concurrency,
                    )
                except Exception as exc:  # noqa: BLE001 - a busy or broken store must not kill the loop
                    self._log("error", f"Queue {c.queue}: cannot read the queue store: {exc}")
                    lease = Lease(next_due=time.time() + 1.0)
                self._report_dead(lease.dead_lettered)
                if lease.messages:
                    task = asyncio.ensure_future(self._deliver(lease))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
                    continue
                if lease.next_due is not None:
                    wait = min(self._poll, max(0.0, lease.next_due - time.time()))
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=max(wait, 0.005))
            except asyncio.TimeoutError:
                pass
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=30)

    async def _deliver(self, lease: Lease) -> None:
        c = self._consumer
        batch = MessageBatch(c.queue, lease.messages, lambda m: self._log("warn", m))
        renew = asyncio.ensure_future(self._keep_lease(lease.id))
        # The batch's own log lines (prints in the handler) go with its tail event.
        logs: list[dict[str, object]] = []
        console.request_logs.set(logs)
        started = time.perf_counter()
        # The batch is a span in the first message's trace; the other senders' are its links.
        span = tracing.Nested(lease.messages[0].trace or None)
        failed = False
        exceptions: list[dict[str, object]] = []
        try:
            await self._handler(batch)
        except Exception as exc:  # noqa: BLE001 - the user's failure retries the batch
            failed = True
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self._log("error", text.rstrip())
            exceptions.append({"name": type(exc).__name__, "message": str(exc), "stack": text})
        finally:
            renew.cancel()
            span.close()
        acked, retried = batch.decide(failed, float(c.retry_delay))
        settled = self._store.settle(
            lease.id,
            acked=acked,
            retried=retried,
            max_attempts=self.max_attempts,
            dead_letter_queue=c.dead_letter_queue,
        )
        elapsed = (time.perf_counter() - started) * 1000
        for mid in retried:
            if mid not in {m for m, _ in settled.dead_lettered}:
                self._log("debug", f'Retrying message "{mid}" on queue "{c.queue}"...')
        self._report_dead(settled.dead_lettered)
        total = len(lease.messages)
        console.request_logs.set(None)
        if self._on_batch is None:  # without a tail event, one log line per batch
            self._log("info", f"QUEUE {c.queue} {settled.acked}/{total} ({elapsed:.0f}ms)")
        else:
            self._on_batch(
                {
                    "queue": c.queue,
                    "batchSize": total,
                    "acked": settled.acked,
                    "retried": settled.retried,
                    "outcome": "exception" if failed else "ok",
                    "exceptions": exceptions,
                    "logs": logs,
                    "duration_ms": round(elapsed, 3),
                    "span": span.fields(),
                    "links": sorted({m.trace for m in lease.messages[1:] if m.trace}),
                }
            )

    def _report_dead(self, dead: list[tuple[str, str | None]]) -> None:
        n = self.max_attempts
        plural = "" if n == 1 else "s"
        for mid, dlq in dead:
            if dlq is not None:
                self._log(
                    "warn",
                    f'Moving message "{mid}" on queue "{self._consumer.queue}" to dead letter '
                    f'queue "{dlq}" after {n} failed attempt{plural}...',
                )
            else:
                self._log(
                    "warn",
                    f'Dropped message "{mid}" on queue "{self._consumer.queue}" after {n} failed '
                    f"attempt{plural}!",
                )

    async def _keep_lease(self, lease_id: str) -> None:
        while True:
            await asyncio.sleep(self._lease_seconds / 3)
            self._store.renew(lease_id, self._lease_seconds)
