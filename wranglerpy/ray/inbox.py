"""A channel into a running call: what Ray does not give a deployment handle's arguments.

A call's arguments travel whole, once. What must keep flowing into a call after it started,
a WebSocket's client messages or a large request body, goes through an ``Inbox``: one small
actor per calling process, on its node, holding a bounded queue per connection. The caller
``put``s items under the connection's id; the callee's replica ``take``s them (a waiting
remote call). A ``None`` item ends a connection. The inbox is owned by the process that made
it, so it goes when that process goes, and the callee sees its caller leave.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

QUEUED = 16  # items per connection before ``put`` waits (backpressure on the sender)
CHUNK = 1024 * 1024  # body bytes per item: one remote call per MB, not per socket read


class Inbox:
    """The actor's class: items waiting for callees, a bounded queue per connection."""

    def __init__(self) -> None:
        self.queues: dict[str, asyncio.Queue[bytes | None]] = {}

    def _queue(self, conn: str) -> asyncio.Queue[bytes | None]:
        queue = self.queues.get(conn)
        if queue is None:
            queue = self.queues[conn] = asyncio.Queue(QUEUED)
        return queue

    async def put(self, conn: str, item: bytes | None) -> None:
        await self._queue(conn).put(item)

    async def take(self, conn: str) -> list[bytes | None]:
        """What is queued for ``conn`` (waits for at least one item)."""
        queue = self._queue(conn)
        items = [await queue.get()]
        while not queue.empty():
            items.append(queue.get_nowait())
        if items[-1] is None:
            self.queues.pop(conn, None)
        return items

    def drop(self, conn: str) -> None:
        """The connection is over: forget its queue (a waiting ``take`` gets its end)."""
        queue = self.queues.pop(conn, None)
        if queue is not None:
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(None)

    def connections(self) -> int:
        return len(self.queues)


_process_inbox: Any = None


def process_inbox() -> Any:
    """This process's inbox actor, made on this node at the first use (owned by this
    process: it dies with it)."""
    global _process_inbox
    if _process_inbox is None:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        cls: Any = ray.remote(num_cpus=0)(Inbox)
        here = ray.get_runtime_context().get_node_id()
        _process_inbox = cls.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=here, soft=False)
        ).remote()
    return _process_inbox


def new_connection() -> str:
    return uuid.uuid4().hex


async def pull(inbox: Any, conn: str, lost: bytes | None = None) -> AsyncIterator[bytes]:
    """The callee's side: the items of ``conn`` until its end; ``lost`` (if any) is yielded
    last when the inbox itself is gone (its caller died)."""
    while True:
        try:
            items = await inbox.take.remote(conn)
        except Exception:  # noqa: BLE001 - the inbox (its caller's process) is gone
            if lost is not None:
                yield lost
            return
        for item in items:
            if item is None:
                return
            yield item


async def push(inbox: Any, conn: str, stream: AsyncIterator[bytes]) -> None:
    """The caller's side of a request body: ``stream`` in items of about ``CHUNK`` bytes,
    then the end. The end is sent even when ``stream`` fails, so the callee never waits on."""
    pending: list[bytes] = []
    size = 0
    try:
        async for chunk in stream:
            pending.append(chunk)
            size += len(chunk)
            if size >= CHUNK:
                await inbox.put.remote(conn, b"".join(pending))
                pending, size = [], 0
        if pending:
            await inbox.put.remote(conn, b"".join(pending))
    finally:
        await inbox.put.remote(conn, None)
