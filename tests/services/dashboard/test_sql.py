"""The read-only console's checks on their own, on a real SQLite file: what is refused before
SQLite sees it, what the authorizer and ``mode=ro`` refuse after, and the row and time caps."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from wranglerpy.services.dashboard import sql
from wranglerpy.services.dashboard.state import DashboardError


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (a INTEGER, b BLOB)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, bytes([i])) for i in range(5)])
        conn.execute("CREATE TABLE _cf_KV (key TEXT)")
    conn.close()
    return path


def test_reads_run_and_blobs_come_back_as_previews(db: Path) -> None:
    result = sql.query(db, "select a, b from t where a = 1")
    assert result["rows"] == [[1, {"$bytes": {"size": 1, "truncated": False, "text": "\x01"}}]]
    assert sql.query(db, "EXPLAIN SELECT * FROM t")["rows"]
    assert sql.query(db, "VALUES (1), (2)")["rows"] == [[1], [2]]
    assert sql.query(db, "/* lead */ SELECT 1;")["rows"] == [[1]]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO t VALUES (9, NULL)",
        "REPLACE INTO t VALUES (9, NULL)",
        "CREATE TABLE u (x)",
        "VACUUM",
        "PRAGMA query_only = OFF",
        "BEGIN",
        "DETACH main",
        "REINDEX",
        "ANALYZE",
    ],
)
def test_statements_that_are_not_reads_are_refused_by_name(db: Path, statement: str) -> None:
    with pytest.raises(sql.ReadOnlyError, match="read-only"):
        sql.query(db, statement)


def test_a_write_hidden_in_a_read_is_refused_by_the_authorizer(db: Path) -> None:
    for statement in (
        "WITH x AS (SELECT 1) INSERT INTO t SELECT 7, NULL FROM x",
        "EXPLAIN DELETE FROM t",
        "SELECT * FROM pragma_query_only",  # a table-valued PRAGMA function
    ):
        with pytest.raises(sql.ReadOnlyError, match="not authorized"):
            sql.query(db, statement)
    assert sql.query(db, "SELECT count(*) FROM t")["rows"] == [[5]]


def test_the_file_is_opened_read_only_whatever_the_checks_say(db: Path) -> None:
    with sql.read_only(db) as conn:
        conn.set_authorizer(None)  # even without the authorizer
        with pytest.raises(sqlite3.OperationalError):
            conn.execute("DELETE FROM t")


def test_several_statements_and_oversized_sql(db: Path) -> None:
    with pytest.raises(sql.ReadOnlyError, match="this SQL has 2"):
        sql.query(db, "SELECT 1;\nSELECT 2")
    with pytest.raises(sql.ReadOnlyError, match="too long"):
        sql.query(db, "SELECT 1 -- " + "x" * sql.MAX_SQL)


def test_a_runaway_query_is_stopped(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "TIME_LIMIT_S", 0.0)
    with pytest.raises(DashboardError, match="was stopped"):
        sql.query(
            db,
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) "
            "SELECT count(*) FROM c",
        )


def test_tables_leave_out_internal_ones_and_pages_of_rows(db: Path) -> None:
    assert sql.tables(db) == [{"name": "t", "columns": ["a", "b"], "rows": 5}]
    page = sql.rows(db, "t", offset=3, limit=10)
    assert [r[0] for r in page["rows"]] == [3, 4] and page["complete"]
    with pytest.raises(DashboardError, match="No table"):
        sql.rows(db, "_cf_KV", 0, 10)
