"""The generation thread: admits waiting requests between steps and steps every batch.

One thread runs every forward pass (onnxruntime's own threads do the parallel work), so the
worker's event loop never blocks. Requests join a model's :class:`Batch` between two steps
while it has a free row, in arrival order; the rest wait. Requests admitted together join
together (their prompts share prefill forwards). The thread exists only while there
is work: it ends when nothing is active or waiting and is started again by the next request,
so an idle engine holds no thread and no KV memory.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Protocol

from wranglerpy.ai.batch import Batch, Decoding

log = logging.getLogger("wranglerpy.ai")


class Job(Protocol):
    """A request waiting for a row: ``key`` names its model's batch."""

    @property
    def key(self) -> str: ...

    def start(self) -> Decoding | None:
        """Load, render, encode (on the generation thread); None when it already finished."""
        ...


class TextScheduler:
    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._waiting: deque[Job] = deque()
        self._running = False
        self._batches: dict[str, Batch] = {}

    def submit(self, job: Job) -> None:
        with self._lock:
            self._waiting.append(job)
            if not self._running:
                self._running = True
                # Not a daemon: interpreter exit waits for the current step instead of killing
                # the thread inside onnxruntime (get_engine() cancels everything at exit first).
                threading.Thread(target=self._run, name="wranglerpy-ai-text").start()

    def _admit(self) -> list[Job] | None:
        """The jobs that get a row now; None when there is nothing left to do (thread ends)."""
        with self._lock:
            busy = {key: len(b.active) for key, b in self._batches.items() if b.active}
            admitted: list[Job] = []
            kept: deque[Job] = deque()
            for job in self._waiting:
                if busy.get(job.key, 0) < self.max_rows:
                    busy[job.key] = busy.get(job.key, 0) + 1
                    admitted.append(job)
                else:
                    kept.append(job)
            self._waiting = kept
            if not admitted and not busy and not kept:
                self._running = False
                self._batches.clear()
                return None
            return admitted

    def _run(self) -> None:
        while True:
            admitted = self._admit()
            if admitted is None:
                return
            joining: dict[str, list[Decoding]] = {}
            for job in admitted:
                seq = job.start()
                if seq is None:
                    continue
                batch = self._batches.get(job.key)
                if batch is None or batch.model is not seq.model:
                    batch = self._batches[job.key] = Batch(seq.model, self.max_rows)
                joining.setdefault(job.key, []).append(seq)
            for key, seqs in joining.items():
                # prompts that arrive together share prefill forwards (batch.py)
                batch = self._batches[key]
                try:
                    batch.join_all(seqs)  # a failed prefill fails its request only
                except Exception as exc:  # anything else: the joining requests fail
                    log.exception("Workers AI: joining a batch failed")
                    for seq in seqs:
                        if seq in batch.active:
                            batch.active.remove(seq)
                        if not seq.finished:
                            seq.finish("error", exc)
            for batch in list(self._batches.values()):
                if not batch.active:
                    continue
                try:
                    batch.step()
                except Exception as exc:
                    log.exception("Workers AI: a batched decode step failed")
                    batch.fail_all(exc)
