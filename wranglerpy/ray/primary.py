"""D1 and Analytics Engine on a cluster: one single-primary actor owns every SQLite file (as
D1 itself is single-primary), and the bindings of every replica call it. It also keeps the
durable copy of every Durable Object's storage (``object_images.py``).

The actor is named and detached, restarted by Ray when it dies (``max_restarts=-1``), and
placed by ``ray.toml``'s ``[primary]`` resources; its files live under the Ray target's
state folder of the node it runs on. For D1 it is one more store under the D1 binding
(:class:`RemoteD1Store`, a ``bindings.d1.store.D1Store``): every D1 rule stays in
``bindings/d1``, the primary runs the local store, and a failed query comes back as the
store's own exception object (its class and message), never as a Ray error. Analytics
Engine points are checked here (``row_for``) and sent without waiting, as
``writeDataPoint`` is not awaited on Cloudflare.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from wranglerpy.bindings.analytics_engine import dataset_path
from wranglerpy.bindings.analytics_engine.binding import INSERT, row_for
from wranglerpy.bindings.analytics_engine.binding import setup as ae_setup
from wranglerpy.bindings.d1 import D1DatabaseBinding, database_path
from wranglerpy.bindings.d1.store import Outcome, Rows, SQLiteD1Store, Statement
from wranglerpy.jsobject import options
from wranglerpy.ray.cluster import NAMESPACE
from wranglerpy.ray.object_images import ObjectImages, Opened
from wranglerpy.ray.stores import MessageStores

PRIMARY_ACTOR = "wranglerpy-primary"
Answer = tuple[bool, Any]  # (True, value) or (False, the exception the store raised)
D1_CALLS = frozenset({"rows", "outcome", "batch", "exec", "dump"})


class StatePrimary(MessageStores):
    """The actor's class: the only process that opens the cluster's D1 and AE files (and,
    through ``MessageStores``, its queue and workflow stores)."""

    def __init__(self, persist_dir: str) -> None:
        self.persist_dir = Path(persist_dir)
        self.databases: dict[str, SQLiteD1Store] = {}
        self.datasets: dict[str, Any] = {}
        self._objects: ObjectImages | None = None

    @property
    def objects(self) -> ObjectImages:
        """The durable copy of every Durable Object's storage (see object_images.py)."""
        if self._objects is None:
            self._objects = ObjectImages(self.persist_dir)
        return self._objects

    def object_open(self, key: str, holder: str = "") -> Opened:
        return self.objects.open(key, holder)

    def object_save(
        self, key: str, epoch: int, storage: Any, alarms: Any, alarm_ms: float | None
    ) -> bool:
        return self.objects.save(key, epoch, storage, alarms, alarm_ms)

    def object_target(self, worker: str) -> dict[str, Any] | None:
        return self.objects.target(worker)

    def set_object_target(self, worker: str, target: dict[str, Any]) -> None:
        self.objects.set_target(worker, target)

    def _db(self, storage_id: str) -> SQLiteD1Store:
        db = self.databases.get(storage_id)
        if db is None:
            db = SQLiteD1Store(database_path(self.persist_dir, storage_id))
            self.databases[storage_id] = db
        return db

    async def d1(self, storage_id: str, call: str, args: tuple[Any, ...]) -> Answer:
        """One call of the D1 store of ``storage_id``; an error is returned, not raised, so
        it reaches the caller as itself rather than wrapped in Ray's error."""
        if call not in D1_CALLS:
            return False, ValueError(f"unknown D1 store call {call!r}")
        try:
            return True, await getattr(self._db(storage_id), call)(*args)
        except Exception as exc:  # noqa: BLE001 - handed back to the caller, class and all
            return False, exc

    def write_point(self, dataset: str, row: tuple[Any, ...]) -> None:
        from wranglerpy.bindings._sqlite import SQLiteStore

        store = self.datasets.get(dataset)
        if store is None:
            store = self.datasets[dataset] = SQLiteStore(
                dataset_path(self.persist_dir, dataset), ae_setup
            )
        store.call(lambda c: c.execute(INSERT, row))


def ensure_primary(persist_dir: Path, resources: dict[str, float]) -> Any:
    """Start the cluster's primary (once; a running one is kept)."""
    import ray

    cls: Any = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0)(StatePrimary)
    return cls.options(
        name=PRIMARY_ACTOR,
        namespace=NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        resources=dict(resources),
    ).remote(str(persist_dir))


def primary_actor() -> Any:
    """The running primary's handle (it is started by ``deploy``)."""
    import ray

    return ray.get_actor(PRIMARY_ACTOR, namespace=NAMESPACE)


class RemoteD1Store:
    """The D1 store of a database the cluster's primary owns (``D1Store``)."""

    def __init__(self, storage_id: str, actor: Any = None) -> None:
        self.storage_id = storage_id
        self._actor = actor  # tests pass a stand-in

    def actor(self) -> Any:
        if self._actor is None:
            self._actor = primary_actor()
        return self._actor

    async def _call(self, call: str, *args: Any) -> Any:
        ok, value = await self.actor().d1.remote(self.storage_id, call, args)
        if not ok:
            raise value
        return value

    async def rows(self, statement: Statement, limit: int | None = None) -> Rows:
        rows: Rows = await self._call("rows", statement, limit)
        return rows

    async def outcome(self, statement: Statement) -> Outcome:
        outcome: Outcome = await self._call("outcome", statement)
        return outcome

    async def batch(self, statements: list[Statement]) -> list[Outcome]:
        outcomes: list[Outcome] = await self._call("batch", statements)
        return outcomes

    async def exec(self, sql: str) -> tuple[int, float]:
        done: tuple[int, float] = await self._call("exec", sql)
        return done

    async def dump(self) -> bytes:
        image: bytes = await self._call("dump")
        return image

    def close(self) -> None:
        """Nothing to close here: the primary keeps the file open for every node."""


class RemoteD1Database(D1DatabaseBinding):
    """``env.<D1 binding>`` in a replica: the D1 binding over the primary's store."""

    def __init__(self, storage_id: str, name: str, actor: Any = None) -> None:
        super().__init__(RemoteD1Store(storage_id, actor), name=name)
        self.storage_id = storage_id


class RemoteAnalyticsEngine:
    """``env.<Analytics Engine binding>`` in a replica: checked here, stored by the primary."""

    def __init__(self, dataset: str, actor: Any = None) -> None:
        self.dataset = dataset
        self._actor = actor

    def __repr__(self) -> str:
        return f"AnalyticsEngineDataset({self.dataset!r})"

    def writeDataPoint(self, point: Any = None, **kwargs: Any) -> None:  # noqa: N802 - the JS name
        row = row_for(options(point, **kwargs), time.time())
        if self._actor is None:
            self._actor = primary_actor()
        self._actor.write_point.remote(self.dataset, row)
