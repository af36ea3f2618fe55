"""Queues and Workflows on a cluster: their SQLite stores live in the single primary (the same
actor that owns D1, see ``primary.py``), and every replica reaches them through
:class:`RemoteStore`, which offers the store's own methods.

So the dev rules run unchanged on the cluster: ``QueueConsumerLoop`` (batching, retries,
dead-letter queue) and ``WorkflowEngine`` (replay, sleeps, events) are given a
``RemoteStore`` instead of a local ``QueueStore``/``WorkflowStore``, and each of their store
calls becomes one call of the primary, which runs it on its own file. The files have the dev
layout under the primary's state folder, so ``wranglerpy queues``/``workflows`` commands
read them with ``--persist-to`` on the primary's machine.

A store call is synchronous here, as the SQLite call it stands for is in dev: the replica
waits for the primary's answer (a round trip) on its event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

QUEUES = "queues"
WORKFLOWS = "workflows"
# The store methods a replica may call (nothing else of the store object is reachable).
CALLS: dict[str, frozenset[str]] = {
    QUEUES: frozenset(
        {
            "register",
            "create_queue",
            "delete_queue",
            "queues",
            "enqueue",
            "lease",
            "renew",
            "settle",
            "peek",
            "purge",
            "exists",
        }
    ),
    WORKFLOWS: frozenset(
        {
            "create",
            "get",
            "instances",
            "workflows",
            "set_status",
            "finish",
            "release",
            "control",
            "restart",
            "claim",
            "renew",
            "step",
            "steps",
            "put_step",
            "send_event",
            "take_event",
        }
    ),
}
# How long a replica waits for the primary before the call fails (the loops log and retry).
CALL_TIMEOUT_S = 60.0


class UnknownStoreCall(AttributeError):
    """A store method that is not in :data:`CALLS`."""


def _check_kind(kind: str) -> None:
    if kind not in CALLS:
        raise UnknownStoreCall(f"no {kind!r} store on the primary (known: {sorted(CALLS)})")


def _check(kind: str, method: str) -> None:
    _check_kind(kind)
    if method not in CALLS[kind]:
        raise UnknownStoreCall(f"the {kind} store has no call {method!r}")


class MessageStores:
    """Mixed into the primary actor's class: the queue and workflow stores it owns, opened on
    first use under ``self.persist_dir`` (the dev file layout)."""

    persist_dir: Path

    def _message_store(self, kind: str) -> Any:
        stores: dict[str, Any] = self.__dict__.setdefault("_message_stores", {})
        store = stores.get(kind)
        if store is None:
            if kind == QUEUES:
                from wranglerpy.bindings.queues import open_store as open_queues

                store = open_queues(Path(self.persist_dir))
            else:
                from wranglerpy.bindings.workflows import open_store as open_workflows

                store = open_workflows(Path(self.persist_dir))
            stores[kind] = store
        return store

    def store_call(
        self, kind: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Run ``<kind store>.<method>(*args, **kwargs)`` here, on the primary's file."""
        _check(kind, method)
        return getattr(self._message_store(kind), method)(*args, **kwargs)


def _primary() -> Any:
    from wranglerpy.ray.primary import primary_actor as find

    return find()


def _ray_get(ref: Any) -> Any:
    import ray

    return ray.get(ref, timeout=CALL_TIMEOUT_S)


class RemoteStore:
    """A ``QueueStore`` or ``WorkflowStore`` whose file is the primary's. ``actor`` and
    ``resolve`` (what turns a call's reference into its value) are seams for tests."""

    def __init__(
        self,
        kind: str,
        actor: Any = None,
        resolve: Callable[[Any], Any] | None = None,
    ) -> None:
        _check_kind(kind)
        self.kind = kind
        self._actor = actor
        self._resolve = resolve

    def __repr__(self) -> str:
        return f"<{self.kind} store on the cluster's primary>"

    def actor(self) -> Any:
        if self._actor is None:
            self._actor = _primary()
        return self._actor

    def now(self) -> float:
        # Read locally: a sleeping step asks often, and the nodes share one clock source.
        return time.time()

    def close(self) -> None:
        """Nothing to close here: the primary keeps its files open."""

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)
        _check(self.kind, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            ref = self.actor().store_call.remote(self.kind, method, args, kwargs)
            return (self._resolve or _ray_get)(ref)

        call.__name__ = method
        return call
