"""The local D1 database: D1's API (prepare/bind/first/all/run/raw, batch, exec) over SQLite.

Every query runs on the database's own thread, never on the worker's event loop, as on D1
where a query never blocks the worker: a slow query, or a write lock another process holds
(the CLI, another worker), delays only the requests waiting for that database. Each call is
bounded by D1's 30 s limit (``QUERY_TIME_LIMIT``); a runaway query is interrupted and fails
with D1's error. Worker SQL runs under the D1 sandbox (:mod:`wranglerpy.bindings.sql_authorizer`):
``ATTACH``, ``VACUUM``, most PRAGMAs and unknown functions fail with ``not authorized``.

Blob columns come back as ``bytes`` (D1 gives an ArrayBuffer, which Pyodide would show as a
JsProxy). ``rows_read`` counts the rows returned and ``rows_written`` the rows changed: Python's
sqlite3 does not expose SQLite's scan counters that D1 reports.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wranglerpy.bindings import sql_authorizer
from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.bindings.d1.sql import (
    NOT_AUTHORIZED,
    SCHEMA_WORDS,
    TRANSACTION_WORDS,
    D1Error,
    first_word,
    split_sql,
    sqlite_error,
)
from wranglerpy.jsobject import JSArray, JSObject, options

# D1 stops a query after 30 s (https://developers.cloudflare.com/d1/platform/limits/).
QUERY_TIME_LIMIT = 30.0
SERVED_BY = "wranglerpy"
_BINDABLE = (type(None), int, float, str, bytes, bool)

Rows = tuple[list[str], list[tuple[Any, ...]]]


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


class D1PreparedStatement:
    """``db.prepare(sql)``: immutable; ``bind`` returns a new statement."""

    __slots__ = ("_db", "sql", "params")

    def __init__(self, db: D1DatabaseBinding, sql: str, params: tuple[Any, ...] = ()) -> None:
        self._db = db
        self.sql = sql
        self.params = params

    def __repr__(self) -> str:
        return f"D1PreparedStatement({self.sql!r}, params={self.params!r})"

    def bind(self, *values: Any) -> D1PreparedStatement:
        return D1PreparedStatement(self._db, self.sql, tuple(_check_binding(v) for v in values))

    async def first(self, column: str | None = None) -> Any:
        """The first row as a dict, or its ``column``; None when there are no rows."""
        names, rows = await self._db._store.run(lambda c: self._db._query(c, self, limit=1))
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
        return await self._db._store.run(lambda c: self._db._result(c, self))

    async def run(self) -> JSObject:
        """Same shape as ``all()`` (D1 returns the rows from ``run`` too)."""
        return await self.all()

    async def raw(self, opts: Any = None, **kwargs: Any) -> list[list[Any]]:
        """Rows as lists; with ``columnNames=True`` the first list holds the column names."""
        names, rows = await self._db._store.run(lambda c: self._db._query(c, self))
        out = JSArray(JSArray(row) for row in rows)  # JS arrays: ``.to_py()`` works
        if options(opts, **kwargs).get("columnNames"):
            out.insert(0, JSArray(names))
        return out


class D1DatabaseBinding:
    """``env.<D1 binding>``: one persistent SQLite connection to ``path``."""

    def __init__(self, path: Path, *, name: str = "", time_limit: float = QUERY_TIME_LIMIT) -> None:
        self.name = name
        self._authorizer = sql_authorizer.SQLAuthorizer()
        self._store = SQLiteStore(path, self._setup, own_thread=True, time_limit=time_limit)
        self._page_size: int = self._store.call(
            lambda c: int(c.execute("PRAGMA page_size").fetchone()[0])
        )

    def _setup(self, conn: sqlite3.Connection) -> None:
        # D1 enforces foreign keys.
        conn.execute("PRAGMA foreign_keys = ON")
        sql_authorizer.install(conn, self._authorizer)

    def __repr__(self) -> str:
        return f"D1Database({self.name!r})"

    @property
    def path(self) -> Path:
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
        return await self._store.run(lambda c: self._batch(c, stmts))

    async def exec(self, sql: str) -> JSObject:
        """Run every statement of ``sql`` in turn (no bindings): ``{count, duration}``."""
        return await self._store.run(lambda c: self._exec(c, sql))

    async def dump(self) -> bytes:
        """The whole database as an SQLite file image."""

        def image(conn: sqlite3.Connection) -> bytes:
            with self._authorizer.trusted():  # serialize() reads pages through its own SQL
                return _image(conn)

        return await self._store.run(image)

    def close(self) -> None:
        self._store.close()

    # -- executed on the store's connection ------------------------------------------------

    def _execute(self, conn: sqlite3.Connection, stmt: D1PreparedStatement) -> sqlite3.Cursor:
        word = first_word(stmt.sql)
        if not word:
            raise D1Error("D1_ERROR: No SQL statements detected.")
        if word in TRANSACTION_WORDS:
            raise D1Error(
                f"D1_ERROR: {word} is not allowed: D1 runs each query in its own transaction; "
                "use batch() to run several atomically: SQLITE_ERROR"
            )
        if sql_authorizer.denied_statement(stmt.sql):
            raise D1Error(NOT_AUTHORIZED)
        try:
            return conn.execute(stmt.sql, stmt.params)
        except sqlite3.ProgrammingError as exc:
            if "bindings" in str(exc):
                raise D1Error(
                    "D1_ERROR: Wrong number of parameter bindings for SQL query."
                ) from None
            raise sqlite_error(exc) from None
        except (sqlite3.Error, OverflowError) as exc:
            if isinstance(exc, OverflowError):
                raise D1Error(f"D1_TYPE_ERROR: {exc}") from None
            raise sqlite_error(exc) from None

    def _query(
        self, conn: sqlite3.Connection, stmt: D1PreparedStatement, limit: int | None = None
    ) -> Rows:
        cursor = self._execute(conn, stmt)
        try:
            rows = cursor.fetchmany(limit) if limit else cursor.fetchall()
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from None
        finally:
            cursor.close()
        names = [d[0] for d in cursor.description or ()]
        return names, rows

    def _result(self, conn: sqlite3.Connection, stmt: D1PreparedStatement) -> JSObject:
        started = time.perf_counter()
        before = conn.total_changes
        cursor = self._execute(conn, stmt)
        try:
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from None
        names = [d[0] for d in cursor.description or ()]
        changes = max(cursor.rowcount, 0) if conn.total_changes != before else 0
        last_row_id = cursor.lastrowid or 0
        cursor.close()
        changed = conn.total_changes != before or first_word(stmt.sql) in SCHEMA_WORDS
        with self._authorizer.trusted():
            page_count = conn.execute("PRAGMA page_count -- wranglerpy").fetchone()[0]
        duration = (time.perf_counter() - started) * 1000
        return JSObject(
            success=True,
            results=JSArray(D1Row(zip(names, row, strict=True)) for row in rows),
            meta=JSObject(
                served_by=SERVED_BY,
                duration=duration,
                changes=changes,
                last_row_id=last_row_id,
                changed_db=changed,
                size_after=page_count * self._page_size,
                rows_read=len(rows),
                rows_written=changes,
                timings=JSObject(sql_duration_ms=duration),
            ),
        )

    def _batch(self, conn: sqlite3.Connection, stmts: list[D1PreparedStatement]) -> list[JSObject]:
        try:
            with self._authorizer.trusted():
                conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from None
        try:
            results = [self._result(conn, stmt) for stmt in stmts]
            with self._authorizer.trusted():
                conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with self._authorizer.trusted():
                    conn.execute("ROLLBACK")
            raise
        return results

    def _exec(self, conn: sqlite3.Connection, sql: str) -> JSObject:
        started = time.perf_counter()
        count = 0
        for line, text in split_sql(sql):
            try:
                self._execute(conn, D1PreparedStatement(self, text)).close()
            except D1Error as exc:
                detail = str(exc).split(": ", 1)[1]
                raise D1Error(f"D1_EXEC_ERROR: Error in line {line}: {text}: {detail}") from None
            count += 1
        return JSObject(count=count, duration=(time.perf_counter() - started) * 1000)


def _image(conn: sqlite3.Connection) -> bytes:
    serialize = getattr(conn, "serialize", None)  # Python 3.11+
    if serialize is not None:
        return bytes(serialize())
    with tempfile.TemporaryDirectory() as tmp:
        target = sqlite3.connect(Path(tmp) / "dump.sqlite")
        conn.backup(target)
        target.close()
        return (Path(tmp) / "dump.sqlite").read_bytes()
