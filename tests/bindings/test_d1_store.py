"""The store seam under the D1 binding: the binding keeps D1's API rules, a store only runs
checked statements and answers in plain data (so the answer can cross a process)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from wranglerpy.bindings.d1 import D1DatabaseBinding, D1Error, SQLiteD1Store
from wranglerpy.bindings.d1.store import Outcome, Rows, Statement


class RecordingStore:
    """A store that records what reaches it and answers from a real SQLite store."""

    def __init__(self, path: Path) -> None:
        self.inner = SQLiteD1Store(path)
        self.calls: list[tuple[str, Any]] = []

    async def rows(self, statement: Statement, limit: int | None = None) -> Rows:
        self.calls.append(("rows", statement))
        return await self.inner.rows(statement, limit)

    async def outcome(self, statement: Statement) -> Outcome:
        self.calls.append(("outcome", statement))
        return await self.inner.outcome(statement)

    async def batch(self, statements: list[Statement]) -> list[Outcome]:
        self.calls.append(("batch", statements))
        return await self.inner.batch(statements)

    async def exec(self, sql: str) -> tuple[int, float]:
        self.calls.append(("exec", sql))
        return await self.inner.exec(sql)

    async def dump(self) -> bytes:
        return await self.inner.dump()

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def store(tmp_path: Path):
    store = RecordingStore(tmp_path / "db.sqlite")
    yield store
    store.close()


async def test_api_rules_are_checked_before_anything_reaches_the_store(store) -> None:
    db = D1DatabaseBinding(store, name="db")
    with pytest.raises(D1Error, match="D1_TYPE_ERROR: prepare"):
        db.prepare(42)  # type: ignore[arg-type]
    with pytest.raises(D1Error, match="D1_TYPE_ERROR: Type 'object'"):
        db.prepare("SELECT ?").bind(object())
    with pytest.raises(D1Error, match="D1_TYPE_ERROR: batch"):
        await db.batch(["SELECT 1"])  # type: ignore[list-item]
    assert await db.batch([]) == []
    assert store.calls == []


async def test_results_are_shaped_by_the_binding_from_plain_answers(store) -> None:
    db = D1DatabaseBinding(store, name="db")
    assert (await db.exec("CREATE TABLE t (a INTEGER, b BLOB)"))["count"] == 1
    inserted = await db.prepare("INSERT INTO t VALUES (?, ?)").bind(1, bytearray(b"x")).run()
    assert inserted.meta.changes == 1 and inserted.meta.served_by == "wranglerpy"
    assert store.calls[-1] == ("outcome", ("INSERT INTO t VALUES (?, ?)", (1, b"x")))
    row = await db.prepare("SELECT a AS items, b FROM t").first()
    assert row.items == 1 and row["b"] == b"x"  # D1Row: a column wins over dict.items
    with pytest.raises(D1Error, match="D1_COLUMN_NOTFOUND"):
        await db.prepare("SELECT a FROM t").first("nope")
    # What a store answers survives pickling (the Ray primary sends it between processes).
    answer = await store.inner.outcome(("SELECT a, b FROM t", ()))
    assert pickle.loads(pickle.dumps(answer)) == answer


async def test_a_store_error_is_a_d1_error_that_survives_pickling(store) -> None:
    db = D1DatabaseBinding(store, name="db")
    with pytest.raises(D1Error) as caught:
        await db.prepare("SELECT * FROM nope").all()
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is D1Error and str(copy) == str(caught.value)
    assert str(copy) == "D1_ERROR: no such table: nope: SQLITE_ERROR"


def test_a_path_still_makes_a_local_database(tmp_path: Path) -> None:
    db = D1DatabaseBinding(tmp_path / "db.sqlite", name="db")
    try:
        assert db.path == tmp_path / "db.sqlite"
    finally:
        db.close()
