"""``ctx.storage.sql`` (workerd src/workerd/api/sql.c++ and util/sqlite.c++)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wranglerpy.bindings.durable_objects.errors import Error
from wranglerpy.bindings.durable_objects.storage import ObjectStorage


@pytest.fixture
def sql(tmp_path: Path) -> Iterator[object]:
    storage = ObjectStorage(tmp_path / "o.sqlite", sqlite=True)
    yield storage.sql
    storage.close()


def test_exec_runs_at_once_and_reads_through_a_cursor(sql: object) -> None:
    sql.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t (name) VALUES ('a')"
    )  # type: ignore[attr-defined]
    written = sql.exec("INSERT INTO t (name) VALUES (?), (?)", "b", "c")  # type: ignore[attr-defined]
    assert written.rowsWritten == 2
    cursor = sql.exec("SELECT id, name FROM t ORDER BY id")  # type: ignore[attr-defined]
    assert cursor.columnNames == ["id", "name"]
    assert [row["name"] for row in cursor] == ["a", "b", "c"]
    assert cursor.rowsRead == 3
    assert sql.exec("SELECT name FROM t WHERE id = ?", 2).one() == {"name": "b"}  # type: ignore[attr-defined]
    assert sql.exec("SELECT id, name FROM t WHERE id < 3").raw().toArray() == [[1, "a"], [2, "b"]]  # type: ignore[attr-defined]
    assert sql.databaseSize > 0  # type: ignore[attr-defined]


def test_one_wants_exactly_one_row(sql: object) -> None:
    sql.exec("CREATE TABLE t (a); INSERT INTO t VALUES (1), (2)")  # type: ignore[attr-defined]
    with pytest.raises(
        Error, match="Expected exactly one result from SQL query, but got no results."
    ):
        sql.exec("SELECT a FROM t WHERE a > 5").one()  # type: ignore[attr-defined]
    with pytest.raises(Error, match="but got multiple results."):
        sql.exec("SELECT a FROM t").one()  # type: ignore[attr-defined]


def test_errors_read_like_workerds(sql: object) -> None:
    with pytest.raises(Error, match="no such table: nope: SQLITE_ERROR"):
        sql.exec("SELECT * FROM nope")  # type: ignore[attr-defined]
    with pytest.raises(Error, match="please use the state.storage.transaction\\(\\)"):
        sql.exec("BEGIN TRANSACTION")  # type: ignore[attr-defined]
    with pytest.raises(Error, match="access to _cf_KV.key is prohibited: SQLITE_AUTH"):
        sql.exec("SELECT * FROM _cf_KV")  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="Unsupported SQL binding type"):
        sql.exec("SELECT ?", [1])  # type: ignore[attr-defined]


def test_transaction_sync_rolls_back_on_error(tmp_path: Path) -> None:
    storage = ObjectStorage(tmp_path / "t.sqlite", sqlite=True)
    storage.sql.exec("CREATE TABLE t (a)")

    def fail() -> None:
        storage.sql.exec("INSERT INTO t VALUES (1)")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        storage.transactionSync(fail)
    assert (
        storage.transactionSync(lambda: storage.sql.exec("INSERT INTO t VALUES (2)").rowsWritten)
        == 1
    )
    assert storage.sql.exec("SELECT a FROM t").raw().toArray() == [[2]]
    storage.close()
    kv_only = ObjectStorage(tmp_path / "k.sqlite", sqlite=False)
    with pytest.raises(Error, match="Durable Object is not backed by SQL."):
        kv_only.transactionSync(lambda: None)
    kv_only.close()


@pytest.mark.parametrize(
    "query",
    [
        "ATTACH DATABASE '/tmp/other.sqlite' AS o",
        "VACUUM INTO '/tmp/wranglerpy-do-copy.sqlite'",
        "PRAGMA writable_schema = ON",
        "PRAGMA database_list",
        "CREATE TEMP TABLE scratch (a)",
        "SELECT sqlite_version()",
    ],
)
def test_do_sql_has_d1s_sandbox(sql: object, query: str) -> None:
    """Issue 18, finding 4: DO SQL and D1 share workerd's SqliteDatabase::isAuthorized
    (src/workerd/util/sqlite.c++): what reaches outside the object's database is refused."""
    with pytest.raises(Error, match="not authorized"):
        sql.exec(query)  # type: ignore[attr-defined]
    assert not Path("/tmp/wranglerpy-do-copy.sqlite").exists()
