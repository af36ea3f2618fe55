"""Where a D1 database's SQL runs: the store seam under the D1 binding.

:class:`~wranglerpy.bindings.d1.binding.D1DatabaseBinding` holds D1's API rules (statement
objects, binding types, batch arguments, result shapes); a :class:`D1Store` runs statements
and answers in plain data (lists, tuples, dicts), so an answer can cross a process or a
machine as it is. :class:`SQLiteD1Store` is the local store (one SQLite file, D1's sandbox,
D1's error words); the Ray target's single primary serves the same store to every node
(``wranglerpy.ray.primary``), raising the very same :class:`D1Error` objects.

Every query runs on the store's own thread, never on the worker's event loop, as on D1 where
a query never blocks the worker: a slow query, or a write lock another process holds (the
CLI, another worker), delays only the requests waiting for that database. Each call is
bounded by D1's 30 s limit (``QUERY_TIME_LIMIT``); a runaway query is interrupted and fails
with D1's error. Worker SQL runs under the D1 sandbox (:mod:`wranglerpy.bindings.sql_authorizer`).
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

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

# D1 stops a query after 30 s (https://developers.cloudflare.com/d1/platform/limits/).
QUERY_TIME_LIMIT = 30.0

Statement = tuple[str, tuple[Any, ...]]  # (sql, bound values), already checked by the binding
Rows = tuple[list[str], list[tuple[Any, ...]]]  # (column names, rows)
# (column names, rows, meta): meta holds D1's numbers (changes, last_row_id, duration, ...).
Outcome = tuple[list[str], list[tuple[Any, ...]], dict[str, Any]]


class D1Store(Protocol):
    """What the D1 binding calls; every method raises :class:`D1Error` for a failed query."""

    async def rows(self, statement: Statement, limit: int | None = None) -> Rows:
        """The statement's rows (at most ``limit``)."""

    async def outcome(self, statement: Statement) -> Outcome:
        """The statement's rows and D1's ``meta`` numbers."""

    async def batch(self, statements: list[Statement]) -> list[Outcome]:
        """Every outcome, in one transaction; an error leaves nothing changed."""

    async def exec(self, sql: str) -> tuple[int, float]:
        """Run each statement of a script in turn: (statements run, milliseconds)."""

    async def dump(self) -> bytes:
        """The whole database as an SQLite file image."""

    def close(self) -> None: ...


class SQLiteD1Store:
    """One persistent SQLite connection to ``path``, on its own thread."""

    def __init__(self, path: Path, *, time_limit: float = QUERY_TIME_LIMIT) -> None:
        self._authorizer = sql_authorizer.SQLAuthorizer()
        self.sqlite = SQLiteStore(path, self._setup, own_thread=True, time_limit=time_limit)
        self._page_size: int = self.sqlite.call(
            lambda c: int(c.execute("PRAGMA page_size").fetchone()[0])
        )

    def _setup(self, conn: sqlite3.Connection) -> None:
        # D1 enforces foreign keys.
        conn.execute("PRAGMA foreign_keys = ON")
        sql_authorizer.install(conn, self._authorizer)

    @property
    def path(self) -> Path:
        return self.sqlite.path

    async def rows(self, statement: Statement, limit: int | None = None) -> Rows:
        return await self.sqlite.run(lambda c: self._rows(c, statement, limit))

    async def outcome(self, statement: Statement) -> Outcome:
        return await self.sqlite.run(lambda c: self._outcome(c, statement))

    async def batch(self, statements: list[Statement]) -> list[Outcome]:
        return await self.sqlite.run(lambda c: self._batch(c, statements))

    async def exec(self, sql: str) -> tuple[int, float]:
        return await self.sqlite.run(lambda c: self._exec(c, sql))

    async def dump(self) -> bytes:
        def image(conn: sqlite3.Connection) -> bytes:
            with self._authorizer.trusted():  # serialize() reads pages through its own SQL
                return sqlite_image(conn)

        return await self.sqlite.run(image)

    def close(self) -> None:
        self.sqlite.close()

    # -- executed on the store's connection ------------------------------------------------

    def _execute(self, conn: sqlite3.Connection, statement: Statement) -> sqlite3.Cursor:
        sql, params = statement
        word = first_word(sql)
        if not word:
            raise D1Error("D1_ERROR: No SQL statements detected.")
        if word in TRANSACTION_WORDS:
            raise D1Error(
                f"D1_ERROR: {word} is not allowed: D1 runs each query in its own transaction; "
                "use batch() to run several atomically: SQLITE_ERROR"
            )
        if sql_authorizer.denied_statement(sql):
            raise D1Error(NOT_AUTHORIZED)
        try:
            return conn.execute(sql, params)
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

    def _rows(self, conn: sqlite3.Connection, statement: Statement, limit: int | None) -> Rows:
        cursor = self._execute(conn, statement)
        try:
            rows = cursor.fetchmany(limit) if limit else cursor.fetchall()
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from None
        finally:
            cursor.close()
        names = [d[0] for d in cursor.description or ()]
        return names, rows

    def _outcome(self, conn: sqlite3.Connection, statement: Statement) -> Outcome:
        started = time.perf_counter()
        before = conn.total_changes
        cursor = self._execute(conn, statement)
        try:
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from None
        names = [d[0] for d in cursor.description or ()]
        changes = max(cursor.rowcount, 0) if conn.total_changes != before else 0
        last_row_id = cursor.lastrowid or 0
        cursor.close()
        changed = conn.total_changes != before or first_word(statement[0]) in SCHEMA_WORDS
        with self._authorizer.trusted():
            page_count = conn.execute("PRAGMA page_count -- wranglerpy").fetchone()[0]
        meta = {
            "duration": (time.perf_counter() - started) * 1000,
            "changes": changes,
            "last_row_id": last_row_id,
            "changed_db": changed,
            "size_after": page_count * self._page_size,
            "rows_read": _rows_read(statement[0], len(rows), changes),
            "rows_written": changes,
        }
        return names, rows, meta

    def _batch(self, conn: sqlite3.Connection, statements: list[Statement]) -> list[Outcome]:
        try:
            with self._authorizer.trusted():
                conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from None
        try:
            results = [self._outcome(conn, statement) for statement in statements]
            with self._authorizer.trusted():
                conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with self._authorizer.trusted():
                    conn.execute("ROLLBACK")
            raise
        return results

    def _exec(self, conn: sqlite3.Connection, sql: str) -> tuple[int, float]:
        started = time.perf_counter()
        count = 0
        for line, text in split_sql(sql):
            try:
                self._execute(conn, (text, ())).close()
            except D1Error as exc:
                detail = str(exc).split(": ", 1)[1]
                raise D1Error(f"D1_EXEC_ERROR: Error in line {line}: {text}: {detail}") from None
            count += 1
        return count, (time.perf_counter() - started) * 1000


def sqlite_image(conn: sqlite3.Connection) -> bytes:
    """The connection's database as an SQLite file image (what ``dump()`` returns)."""
    serialize = getattr(conn, "serialize", None)  # Python 3.11+
    if serialize is not None:
        return bytes(serialize())
    with tempfile.TemporaryDirectory() as tmp:
        target = sqlite3.connect(Path(tmp) / "dump.sqlite")
        conn.backup(target)
        target.close()
        return (Path(tmp) / "dump.sqlite").read_bytes()


def _rows_read(sql: str, returned: int, changes: int) -> int:
    """D1 reports the rows its cursors visit (workerd patches/sqlite/0001-row-counts-plain.patch
    counts them in the VDBE), which Python's sqlite3 cannot read: an UPDATE or DELETE visited
    at least every row it changed, a SELECT every row it returned. A plain INSERT reads none."""
    if first_word(sql) in ("INSERT", "REPLACE"):
        return returned
    return max(returned, changes)
