"""``ctx.storage.sql``: ``exec(query, *bindings)`` returning a cursor, as workerd's ``sql.c++``.

A query runs when ``exec`` is called (writes need no iteration); several statements separated
by ``;`` all run and the cursor reads the last one. ``BEGIN``/``SAVEPOINT`` are refused with
workerd's message, and names starting with ``_cf_`` (the object's own tables) are off limits.
Errors read ``<sqlite message>: SQLITE_<CODE>``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from wranglerpy.bindings.d1.sql import split_sql
from wranglerpy.bindings.durable_objects.errors import Error
from wranglerpy.bindings.sql_authorizer import SQLAuthorizer, denied_statement
from wranglerpy.jsobject import JSObject

if TYPE_CHECKING:
    from wranglerpy.bindings.durable_objects.storage import ObjectStorage

_NO_TRANSACTIONS = (
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing."
)
_SQL_VALUE = (str, int, float, bytes, type(None))
# workerd's rules for DO SQL are D1's (both are SqliteDatabase::isAuthorized): transactions,
# ATTACH, temp objects, `_cf_` names, non-listed functions and PRAGMAs are refused.
_SANDBOX = SQLAuthorizer()


def _error_name(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", None) or (
        "SQLITE_CONSTRAINT" if isinstance(exc, sqlite3.IntegrityError) else "SQLITE_ERROR"
    )
    return "_".join(str(name).split("_")[:2])


def _sql_error(exc: sqlite3.Error, statement: str) -> Error:
    word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
    if word in ("BEGIN", "SAVEPOINT", "COMMIT", "END", "ROLLBACK", "RELEASE"):
        return Error(_NO_TRANSACTIONS)
    return Error(f"{exc}: {_error_name(exc)}")


class SqlStorage:
    def __init__(self, storage: ObjectStorage) -> None:
        self._storage = storage

    def exec(self, query: str, *bindings: Any) -> Cursor:
        if not isinstance(query, str):
            raise TypeError("exec() expects the SQL query as a string.")
        for value in bindings:
            if isinstance(value, bool) or not isinstance(value, _SQL_VALUE):
                raise TypeError(
                    f"Unsupported SQL binding type {type(value).__name__}: use str, int, float, "
                    "bytes or None."
                )
        statements = [s for _, s in split_sql(query)]
        if not statements:
            raise Error("SQL code did not contain a statement.")
        if any(denied_statement(s) for s in statements):
            raise Error("not authorized: SQLITE_AUTH")  # VACUUM: no authorizer action
        storage = self._storage
        conn = storage.conn
        storage.begin_write()
        before = conn.total_changes
        conn.set_authorizer(_SANDBOX)  # D1's sandbox: no ATTACH, VACUUM, stray PRAGMAs (issue 18)
        try:
            for statement in statements[:-1]:
                try:
                    conn.execute(statement)
                except sqlite3.Error as exc:
                    raise _sql_error(exc, statement) from None
            try:
                cursor = conn.execute(statements[-1], bindings)
            except sqlite3.Error as exc:
                raise _sql_error(exc, statements[-1]) from None
        finally:
            conn.set_authorizer(None)
        return Cursor(cursor, conn.total_changes - before)

    @property
    def databaseSize(self) -> int:  # noqa: N802 - the Workers name
        return self._storage.size_bytes()


class Cursor:
    """Rows of one ``exec``: iterate (dicts), ``toArray()``, ``one()``, ``raw()`` (lists)."""

    def __init__(self, cursor: sqlite3.Cursor, rows_written: int) -> None:
        self._cursor = cursor
        self.columnNames: list[str] = [d[0] for d in cursor.description or ()]
        self.rowsWritten = rows_written
        self.rowsRead = 0
        self._done = cursor.description is None

    def _next_values(self) -> tuple[Any, ...] | None:
        if self._done:
            return None
        row = self._cursor.fetchone()
        if row is None:
            self._done = True
            return None
        self.rowsRead += 1
        return tuple(row)

    def _as_object(self, values: tuple[Any, ...]) -> JSObject:
        return JSObject(zip(self.columnNames, values, strict=True))

    def __iter__(self) -> Iterator[JSObject]:
        while (values := self._next_values()) is not None:
            yield self._as_object(values)

    def next(self) -> JSObject:
        values = self._next_values()
        if values is None:
            return JSObject(done=True)
        return JSObject(done=False, value=self._as_object(values))

    def toArray(self) -> list[JSObject]:  # noqa: N802
        return list(self)

    def one(self) -> JSObject:
        values = self._next_values()
        if values is None:
            raise Error("Expected exactly one result from SQL query, but got no results.")
        if self._next_values() is not None:
            self._done = True
            raise Error("Expected exactly one result from SQL query, but got multiple results.")
        return self._as_object(values)

    def raw(self) -> RawIterator:
        """Rows as lists, in column order (``for row in cursor.raw()`` or ``.toArray()``)."""
        return RawIterator(self)


class RawIterator:
    def __init__(self, cursor: Cursor) -> None:
        self._cursor = cursor
        self.columnNames = cursor.columnNames

    def __iter__(self) -> RawIterator:
        return self

    def __next__(self) -> list[Any]:
        values = self._cursor._next_values()
        if values is None:
            raise StopIteration
        return list(values)

    def toArray(self) -> list[list[Any]]:  # noqa: N802
        return list(self)
