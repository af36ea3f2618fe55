"""Runs a query against a dataset's SQLite file and shapes the answer like the SQL API."""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wranglerpy.bindings._sqlite import connect
from wranglerpy.bindings.analytics_engine.sql.functions import register
from wranglerpy.bindings.analytics_engine.sql.parser import parse
from wranglerpy.bindings.analytics_engine.sql.tokens import QueryError
from wranglerpy.bindings.analytics_engine.sql.translate import Translator
from wranglerpy.errors import StateError

FORMATS = {"JSON", "JSONEACHROW"}
QUOTED_TYPES = {"UInt64", "Int64"}  # ClickHouse quotes 64-bit integers in JSON output


@dataclass
class QueryResult:
    meta: list[dict[str, str]]
    data: list[dict[str, Any]]
    rows_before_limit: int
    format: str | None = None  # the query's FORMAT clause, if any

    @property
    def rows(self) -> int:
        return len(self.data)

    def to_json(self) -> dict[str, Any]:
        """``{meta, data, rows, rows_before_limit_at_least}`` as the SQL API returns it."""
        return {
            "meta": self.meta,
            "data": [self.json_row(r) for r in self.data],
            "rows": self.rows,
            "rows_before_limit_at_least": self.rows_before_limit,
        }

    def json_row(self, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for column in self.meta:
            value = row[column["name"]]
            if column["type"] in QUOTED_TYPES and value is not None:
                value = str(value)
            elif isinstance(value, float) and not math.isfinite(value):
                value = None
            out[column["name"]] = value
        return out


def format_datetime(value: Any) -> str | None:
    if value is None:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(math.floor(float(value))))


def convert(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "DateTime":
        return format_datetime(value)
    if kind == "Float64":
        return float(value)
    if kind == "String":
        return str(value)
    return int(value)


def run_query(
    text: str,
    locate: Callable[[str], tuple[Path, str]],
    now: float | None = None,
) -> QueryResult:
    """Parse, translate and run ``text``. ``locate(table)`` gives the dataset's SQLite file and
    its dataset name (or raises a WranglerError when there is no such dataset)."""
    query = parse(text)
    if query.format is not None and query.format.upper() not in FORMATS:
        raise QueryError(f"Unsupported FORMAT {query.format} (use JSON or JSONEachRow).")
    path, dataset = locate(query.table)
    try:
        compiled = Translator(query, dataset, time.time() if now is None else now).compile()
    except RecursionError:  # a long chain of unary operators (NOT NOT NOT ...)
        raise QueryError("The query nests too deeply to run.") from None
    conn = connect(path)
    try:
        errors = register(conn)
        try:
            rows = conn.execute(compiled.sql, compiled.params).fetchall()
        except sqlite3.OperationalError as exc:
            if errors.messages:
                raise QueryError(errors.messages[0]) from None
            if "no such table" in str(exc):
                rows = []  # a dataset folder with no points written yet
            else:
                raise StateError(f"The query failed on {path}: {exc}") from exc
    finally:
        conn.close()
    total = len(rows)
    if compiled.offset:
        rows = rows[compiled.offset :]
    if compiled.limit is not None:
        rows = rows[: compiled.limit]
    data = [
        {
            name: convert(value, kind)
            for (name, kind), value in zip(compiled.columns, row, strict=True)
        }
        for row in rows
    ]
    meta = [{"name": name, "type": kind} for name, kind in compiled.columns]
    return QueryResult(meta, data, total, query.format)
