"""The D1 binding: D1's API (prepare/bind/first/all/run/raw, batch, exec, dump).

The rules of the API live here once: what ``prepare`` and ``bind`` accept, what ``batch``
takes, the shape of every result. The SQL runs in a store (:mod:`.store`): the local SQLite
file (:class:`~.store.SQLiteD1Store`), or the Ray target's single primary, which serves the
same store to every node. A store answers in plain data and raises :class:`D1Error`.

Blob columns come back as ``bytes`` (D1 gives an ArrayBuffer, which Pyodide would show as a
JsProxy). ``rows_read`` counts the rows returned, or changed by an UPDATE/DELETE, and
``rows_written`` the rows changed: Python's sqlite3 does not expose the scan counters D1 reports,
so these are their lower bounds (full scans and index writes are not counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wranglerpy.bindings.d1.sql import D1Error
from wranglerpy.bindings.d1.store import (
    QUERY_TIME_LIMIT,
    D1Store,
    Outcome,
    SQLiteD1Store,
    Statement,
)
from wranglerpy.jsobject import JSArray, JSObject, options

__all__ = ["QUERY_TIME_LIMIT", "D1DatabaseBinding", "D1PreparedStatement", "D1Row"]

SERVED_BY = "wranglerpy"
_BINDABLE = (type(None), int, float, str, bytes, bool)


class D1Row(JSObject):
    """A result row. A column wins over a dict method of the same name (``row.items``,
    ``row.values``, ``row.keys``), as a property does on the JS object D1 returns."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_") and dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        return super().__getattribute__(name)


def _check_binding(value: Any) -> Any:
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if not isinstance(value, _BINDABLE):
        raise D1Error(
            f"D1_TYPE_ERROR: Type '{type(value).__name__}' not supported for value {value!r}"
        )
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise D1Error(f"D1_TYPE_ERROR: Integer {value} does not fit in 64 bits")
    return value


def _result(outcome: Outcome) -> JSObject:
    names, rows, meta = outcome
    return JSObject(
        success=True,
        results=JSArray(D1Row(zip(names, row, strict=True)) for row in rows),
        meta=JSObject(
            served_by=SERVED_BY,
            **meta,
            timings=JSObject(sql_duration_ms=meta["duration"]),
        ),
    )


class D1PreparedStatement:
    """``db.prepare(sql)``: immutable; ``bind`` returns a new statement."""

    __slots__ = ("_db", "sql", "params")

    def __init__(self, db: D1DatabaseBinding, sql: str, params: tuple[Any, ...] = ()) -> None:
        self._db = db
        self.sql = sql
        self.params = params

    def __repr__(self) -> str:
        return f"D1PreparedStatement({self.sql!r}, params={self.params!r})"

    @property
    def _statement(self) -> Statement:
        return (self.sql, self.params)

    def bind(self, *values: Any) -> D1PreparedStatement:
        return D1PreparedStatement(self._db, self.sql, tuple(_check_binding(v) for v in values))

    async def first(self, column: str | None = None) -> Any:
        """The first row as a dict, or its ``column``; None when there are no rows."""
        names, rows = await self._db._store.rows(self._statement, 1)
        if not rows:
            return None
        row = D1Row(zip(names, rows[0], strict=True))
        if column is None:
            return row
        if column not in row:
            raise D1Error(f"D1_COLUMN_NOTFOUND: Column not found ({column})")
        return row[column]

    async def all(self) -> JSObject:
        """``{success, results: [row dicts], meta}``."""
        return _result(await self._db._store.outcome(self._statement))

    async def run(self) -> JSObject:
        """Same shape as ``all()`` (D1 returns the rows from ``run`` too)."""
        return await self.all()

    async def raw(self, opts: Any = None, **kwargs: Any) -> list[list[Any]]:
        """Rows as lists; with ``columnNames=True`` the first list holds the column names."""
        names, rows = await self._db._store.rows(self._statement)
        out = JSArray(JSArray(row) for row in rows)  # JS arrays: ``.to_py()`` works
        if options(opts, **kwargs).get("columnNames"):
            out.insert(0, JSArray(names))
        return out


class D1DatabaseBinding:
    """``env.<D1 binding>``: a SQLite file at ``store`` (a path), or any :class:`D1Store`."""

    def __init__(
        self,
        store: Path | D1Store,
        *,
        name: str = "",
        time_limit: float = QUERY_TIME_LIMIT,
    ) -> None:
        self.name = name
        self._store: D1Store = (
            SQLiteD1Store(store, time_limit=time_limit) if isinstance(store, Path) else store
        )

    def __repr__(self) -> str:
        return f"D1Database({self.name!r})"

    @property
    def path(self) -> Path:
        if not isinstance(self._store, SQLiteD1Store):
            raise AttributeError(f"{self!r} is not a local file")
        return self._store.path

    def prepare(self, sql: str) -> D1PreparedStatement:
        if not isinstance(sql, str):
            raise D1Error(f"D1_TYPE_ERROR: prepare() needs a SQL string, got {type(sql).__name__}")
        return D1PreparedStatement(self, sql)

    async def batch(self, statements: Sequence[D1PreparedStatement]) -> list[JSObject]:
        """Run ``statements`` in one transaction: every result, or an error and no change."""
        stmts = list(statements)
        for stmt in stmts:
            if not isinstance(stmt, D1PreparedStatement):
                raise D1Error(
                    f"D1_TYPE_ERROR: batch() takes prepared statements, got {type(stmt).__name__}"
                )
        if not stmts:
            return []
        return [_result(o) for o in await self._store.batch([s._statement for s in stmts])]

    async def exec(self, sql: str) -> JSObject:
        """Run every statement of ``sql`` in turn (no bindings): ``{count, duration}``."""
        count, duration = await self._store.exec(sql)
        return JSObject(count=count, duration=duration)

    async def dump(self) -> bytes:
        """The whole database as an SQLite file image."""
        return await self._store.dump()

    def close(self) -> None:
        self._store.close()
