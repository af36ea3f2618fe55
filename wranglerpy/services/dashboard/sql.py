"""D1 for the dashboard: databases, tables, pages of rows, and a read-only SQL console.

Read-only three times over, so no statement typed in a browser can change a database a
worker is using: the file is opened with ``mode=ro``, ``PRAGMA query_only`` is on, and an
authorizer allows only reads (it is asked about every table, column and function a statement
touches, so ``WITH x AS (...) DELETE ...`` is refused too). Before that, anything that is not
one ``SELECT``/``WITH``/``EXPLAIN``/``VALUES`` statement gets a clear message. Results are cut
at :data:`MAX_ROWS` rows, and a query that runs past :data:`TIME_LIMIT_S` is interrupted.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wranglerpy.bindings.d1 import database_path
from wranglerpy.bindings.d1.sql import first_word, split_sql
from wranglerpy.cli import resources
from wranglerpy.services.dashboard.state import DashboardError
from wranglerpy.services.dashboard.values import jsonable

MAX_ROWS = 1000
MAX_SQL = 100_000  # characters
TIME_LIMIT_S = 5.0
READ_WORDS = ("SELECT", "WITH", "EXPLAIN", "VALUES")
INTERNAL = ("_cf_", "sqlite_")

_ALLOWED_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}
    | {getattr(sqlite3, "SQLITE_RECURSIVE", 33)}
)


class ReadOnlyError(DashboardError):
    """The console refused a statement (it would write, or is not one statement)."""


def databases(persist_dir: Path, configured: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Databases with local data: the configs' (``(label, storage id)``) first, then others."""
    found = {r.ident: r.name for r in resources.listing(persist_dir, "d1")}
    rows = [
        {"id": ident, "name": label, "stored": database_path(persist_dir, ident).is_file()}
        for label, ident in configured
    ]
    seen = {ident for _, ident in configured}
    rows += [
        {"id": i, "name": n, "stored": database_path(persist_dir, i).is_file()}
        for i, n in found.items()
        if i not in seen
    ]
    return rows


def database_file(persist_dir: Path, ident: str) -> Path:
    known = {r.ident for r in resources.listing(persist_dir, "d1")}
    path = database_path(persist_dir, ident)
    if ident not in known or not path.is_file():
        raise DashboardError(f'No local D1 database "{ident}" has data yet.', 404)
    return path


def _authorize(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_OK if action in _ALLOWED_ACTIONS else sqlite3.SQLITE_DENY


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.set_authorizer(_authorize)
        deadline = time.monotonic() + TIME_LIMIT_S
        # Returning non-zero interrupts the statement: a runaway recursive CTE ends here.
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        yield conn
    finally:
        conn.close()


def tables(path: Path) -> list[dict[str, Any]]:
    """User tables (D1's and SQLite's own left out) with their columns and row counts."""
    out = []
    with contextlib.closing(
        sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    ) as conn:  # schema reads: PRAGMA table_info is not a plain read for the console's authorizer
        conn.execute("PRAGMA query_only = ON")
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
            )
            if not r[0].startswith(INTERNAL)
        ]
        for name in names[:500]:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({_quote(name)})")]
            count = conn.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0]
            out.append({"name": name, "columns": columns, "rows": count})
    return out


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def rows(path: Path, table: str, offset: int, limit: int) -> dict[str, Any]:
    """One page of ``table``'s rows, in rowid order when it has one."""
    if table not in {t["name"] for t in tables(path)}:
        raise DashboardError(f'No table "{table}" in this database.', 404)
    sql = f"SELECT * FROM {_quote(table)} LIMIT ? OFFSET ?"
    result = _run(path, sql, (limit + 1, offset))
    more = len(result["rows"]) > limit
    result["rows"] = result["rows"][:limit]
    result.update(offset=offset, complete=not more, truncated=False)
    return result


def check_statement(sql: str) -> str:
    """The one read statement of ``sql``; a :class:`ReadOnlyError` saying why not."""
    if len(sql) > MAX_SQL:
        raise ReadOnlyError(f"The SQL is too long ({len(sql)} characters; at most {MAX_SQL}).")
    statements = split_sql(sql)
    if not statements:
        raise ReadOnlyError("There is no SQL to run (only whitespace or comments).")
    if len(statements) > 1:
        raise ReadOnlyError(
            f"The console runs one statement at a time; this SQL has {len(statements)} "
            f"(the second starts on line {statements[1][0]})."
        )
    text = statements[0][1]
    word = first_word(text)
    if word not in READ_WORDS:
        raise ReadOnlyError(
            f"The console is read-only: {word or 'this statement'} is not allowed; use "
            "SELECT, WITH, EXPLAIN or VALUES (change data with `wranglerpy d1 execute`)."
        )
    return text


def query(path: Path, sql: str) -> dict[str, Any]:
    """Run one read statement; ``{columns, rows, truncated}`` (at most :data:`MAX_ROWS`)."""
    result = _run(path, check_statement(sql), ())
    result["truncated"] = len(result["rows"]) > MAX_ROWS
    result["rows"] = result["rows"][:MAX_ROWS]
    return result


def _run(path: Path, sql: str, args: tuple[Any, ...]) -> dict[str, Any]:
    with read_only(path) as conn:
        try:
            cursor = conn.execute(sql, args)
            fetched = cursor.fetchmany(MAX_ROWS + 1)
        except sqlite3.DatabaseError as exc:
            message = str(exc)
            if "not authorized" in message:
                raise ReadOnlyError(
                    "The console is read-only: this statement would change the database or "
                    "reach outside it (SQLite: not authorized)."
                ) from None
            if "interrupted" in message:
                raise DashboardError(
                    f"The query ran longer than {TIME_LIMIT_S:.0f} s and was stopped."
                ) from None
            raise DashboardError(f"SQLite: {message}") from None
        columns = [d[0] for d in cursor.description or ()]
    return {"columns": columns, "rows": [[jsonable(v) for v in row] for row in fetched]}
