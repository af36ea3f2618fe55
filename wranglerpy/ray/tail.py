"""Request and log events of every replica, kept by one named actor for ``tail``.

Replicas emit events without waiting (a remote call whose result nobody reads); the actor
keeps the last ``KEEP`` in order, each with a sequence number, and ``wranglerpy tail --target
ray`` reads what came after the last number it saw. A lost actor loses only that history.
"""

from __future__ import annotations

import collections
import json
import time
from typing import Any

from wranglerpy.ray.cluster import NAMESPACE, TAIL_ACTOR

KEEP = 10_000


class TailLog:
    """The actor's class: a bounded, numbered event log."""

    def __init__(self) -> None:
        self.events: collections.deque[tuple[int, dict[str, Any]]] = collections.deque(maxlen=KEEP)
        self.seq = 0

    def push(self, event: dict[str, Any]) -> None:
        self.seq += 1
        self.events.append((self.seq, event))

    def since(self, seq: int, limit: int = 500) -> tuple[int, list[dict[str, Any]]]:
        """Events numbered after ``seq`` (at most ``limit``), and the number to ask from next.
        A ``seq`` beyond the last one (the actor was restarted) reads from the start."""
        if seq > self.seq:
            seq = 0
        found = [(n, e) for n, e in self.events if n > seq][:limit]
        return (found[-1][0] if found else seq), [e for _, e in found]

    def last(self) -> int:
        return self.seq


def tail_actor() -> Any:
    """The cluster's tail log (created by the first caller; detached, so it outlives it)."""
    import ray

    cls: Any = ray.remote(num_cpus=0, max_restarts=-1)(TailLog)
    return cls.options(
        name=TAIL_ACTOR, namespace=NAMESPACE, lifetime="detached", get_if_exists=True
    ).remote()


class TailSink:
    """An ``EventSink`` for a replica: events go to the tail actor, fire and forget."""

    def __init__(self) -> None:
        self._actor: Any = None

    def emit(self, event: dict[str, Any]) -> None:
        event.setdefault("ts", time.time())
        try:
            # As the edge's sink writes them: JSON, anything else as its str().
            event = json.loads(json.dumps(event, default=str))
            if self._actor is None:
                import ray

                if not ray.is_initialized():
                    return  # outside a cluster (tests): never start a Ray instance here
                self._actor = tail_actor()
            self._actor.push.remote(event)
        except Exception:  # noqa: BLE001 - losing a tail event must never fail a request
            self._actor = None
