"""D1 and Analytics Engine on a cluster: one single-primary actor owns every SQLite file (as
D1 itself is single-primary), and the bindings of every replica call it.

The actor is named and detached, restarted by Ray when it dies (``max_restarts=-1``), and
placed by ``ray.toml``'s ``[primary]`` resources; its files live under the Ray target's
state folder of the node it runs on. The bindings offer the same calls as the local ones
(``prepare().bind().first/all/run/raw``, ``batch``, ``exec``, ``dump``; ``writeDataPoint``)
and the same errors: a D1 error travels back as its message and is raised as ``D1Error``
here, never as a Ray error. Analytics Engine points are checked here (``row_for``) and sent
without waiting, as ``writeDataPoint`` is not awaited on Cloudflare.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wranglerpy.bindings.analytics_engine import dataset_path
from wranglerpy.bindings.analytics_engine.binding import INSERT, row_for
from wranglerpy.bindings.analytics_engine.binding import setup as ae_setup
from wranglerpy.bindings.d1 import D1DatabaseBinding, D1Error, database_path
from wranglerpy.bindings.d1.binding import _check_binding
from wranglerpy.jsobject import JSObject, options
from wranglerpy.ray.cluster import NAMESPACE
from wranglerpy.ray.stores import MessageStores

PRIMARY_ACTOR = "wranglerpy-primary"
Answer = tuple[bool, Any]  # (True, value) or (False, the D1 error's message)


class StatePrimary(MessageStores):
    """The actor's class: the only process that opens the cluster's D1 and AE files (and,
    through ``MessageStores``, its queue and workflow stores)."""

    def __init__(self, persist_dir: str) -> None:
        self.persist_dir = Path(persist_dir)
        self.databases: dict[str, D1DatabaseBinding] = {}
        self.datasets: dict[str, Any] = {}

    def _db(self, storage_id: str, name: str) -> D1DatabaseBinding:
        db = self.databases.get(storage_id)
        if db is None:
            path = database_path(self.persist_dir, storage_id)
            db = self.databases[storage_id] = D1DatabaseBinding(path, name=name)
        return db

    async def query(
        self, storage_id: str, name: str, op: str, sql: str, params: list[Any], arg: Any
    ) -> Answer:
        try:
            stmt = self._db(storage_id, name).prepare(sql).bind(*params)
            if op == "first":
                return True, await stmt.first(arg)
            if op == "raw":
                return True, await stmt.raw(arg)
            return True, await stmt.all()
        except D1Error as exc:
            return False, str(exc)

    async def batch(
        self, storage_id: str, name: str, statements: list[tuple[str, list[Any]]]
    ) -> Answer:
        try:
            db = self._db(storage_id, name)
            return True, await db.batch([db.prepare(sql).bind(*p) for sql, p in statements])
        except D1Error as exc:
            return False, str(exc)

    async def exec(self, storage_id: str, name: str, sql: str) -> Answer:
        try:
            return True, await self._db(storage_id, name).exec(sql)
        except D1Error as exc:
            return False, str(exc)

    async def dump(self, storage_id: str, name: str) -> bytes:
        return await self._db(storage_id, name).dump()

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


def _primary() -> Any:
    import ray

    return ray.get_actor(PRIMARY_ACTOR, namespace=NAMESPACE)


def _unwrap(answer: Answer) -> Any:
    ok, value = answer
    if not ok:
        raise D1Error(str(value))
    return value


class RemoteStatement:
    """``db.prepare(sql)`` on a cluster: immutable; ``bind`` returns a new statement."""

    __slots__ = ("_db", "sql", "params")

    def __init__(self, db: RemoteD1Database, sql: str, params: tuple[Any, ...] = ()) -> None:
        self._db = db
        self.sql = sql
        self.params = params

    def __repr__(self) -> str:
        return f"D1PreparedStatement({self.sql!r}, params={self.params!r})"

    def bind(self, *values: Any) -> RemoteStatement:
        return RemoteStatement(self._db, self.sql, tuple(_check_binding(v) for v in values))

    async def first(self, column: str | None = None) -> Any:
        return await self._db._query("first", self, column)

    async def all(self) -> JSObject:
        result: JSObject = await self._db._query("all", self, None)
        return result

    async def run(self) -> JSObject:
        return await self.all()

    async def raw(self, opts: Any = None, **kwargs: Any) -> list[list[Any]]:
        result: list[list[Any]] = await self._db._query("raw", self, dict(options(opts, **kwargs)))
        return result


class RemoteD1Database:
    """``env.<D1 binding>`` in a replica: every call goes to the single primary."""

    def __init__(self, storage_id: str, name: str, actor: Any = None) -> None:
        self.storage_id = storage_id
        self.name = name
        self._actor = actor  # tests pass a stand-in

    def __repr__(self) -> str:
        return f"D1Database({self.name!r})"

    def actor(self) -> Any:
        if self._actor is None:
            self._actor = _primary()
        return self._actor

    def prepare(self, sql: str) -> RemoteStatement:
        if not isinstance(sql, str):
            raise D1Error(f"D1_TYPE_ERROR: prepare() needs a SQL string, got {type(sql).__name__}")
        return RemoteStatement(self, sql)

    async def _query(self, op: str, stmt: RemoteStatement, arg: Any) -> Any:
        answer = await self.actor().query.remote(
            self.storage_id, self.name, op, stmt.sql, list(stmt.params), arg
        )
        return _unwrap(answer)

    async def batch(self, statements: Sequence[RemoteStatement]) -> list[JSObject]:
        stmts = list(statements)
        for stmt in stmts:
            if not isinstance(stmt, RemoteStatement):
                raise D1Error(
                    f"D1_TYPE_ERROR: batch() takes prepared statements, got {type(stmt).__name__}"
                )
        if not stmts:
            return []
        plain = [(s.sql, list(s.params)) for s in stmts]
        result: list[JSObject] = _unwrap(
            await self.actor().batch.remote(self.storage_id, self.name, plain)
        )
        return result

    async def exec(self, sql: str) -> JSObject:
        result: JSObject = _unwrap(await self.actor().exec.remote(self.storage_id, self.name, sql))
        return result

    async def dump(self) -> bytes:
        data: bytes = await self.actor().dump.remote(self.storage_id, self.name)
        return data


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
            self._actor = _primary()
        self._actor.write_point.remote(self.dataset, row)
