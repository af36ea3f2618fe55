"""A bound on concurrent generations: up to ``running`` at once, ``queued`` more waiting, and a
clear 503 beyond that, instead of an unbounded pile-up in front of the model.

The worker checks ``full()`` before a stream starts; the stream itself holds its place from
its first step to its end, so an answer that is never read holds nothing.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

DEFAULT_RUNNING = 16
DEFAULT_QUEUED = 256


class GenerationGate:
    def __init__(self, running: int = DEFAULT_RUNNING, queued: int = DEFAULT_QUEUED) -> None:
        if running < 1 or queued < 0:
            raise ValueError("running must be at least 1 and queued at least 0")
        self.running = running
        self.queued = queued
        self.admitted = 0  # running + waiting
        self._permits = asyncio.Semaphore(running)

    def full(self) -> bool:
        return self.admitted >= self.running + self.queued

    @asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        """Hold a place while waiting for, then using, a running slot."""
        self.admitted += 1
        try:
            async with self._permits:
                yield
        finally:
            self.admitted -= 1


# One gate per event loop (a worker process has one; tests make many).
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[int, int], GenerationGate]]
_gates = weakref.WeakKeyDictionary()


def _int_var(env: Any, name: str, default: int) -> int:
    value = getattr(env, name, None)
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def gate_for(env: Any) -> GenerationGate:
    """This process's gate, sized by the MAX_CONCURRENT_GENERATIONS and MAX_QUEUED_GENERATIONS
    vars (defaults 16 and 256)."""
    sizes = (
        _int_var(env, "MAX_CONCURRENT_GENERATIONS", DEFAULT_RUNNING),
        _int_var(env, "MAX_QUEUED_GENERATIONS", DEFAULT_QUEUED),
    )
    per_loop = _gates.setdefault(asyncio.get_running_loop(), {})
    gate = per_loop.get(sizes)
    if gate is None:
        gate = per_loop[sizes] = GenerationGate(*sizes)
    return gate
