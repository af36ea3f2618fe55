"""``ctx.storage``'s key-value API: limits and wording of workerd (io/actor-storage.c++,
api/actor-state.c++), structured-clone values, transactions, and the output gate."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from wranglerpy.bindings.durable_objects.clone import DataCloneError
from wranglerpy.bindings.durable_objects.errors import Error, RangeError
from wranglerpy.bindings.durable_objects.storage import ObjectStorage


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[ObjectStorage]:
    s = ObjectStorage(tmp_path / "o.sqlite", sqlite=True)
    yield s
    s.close()


@pytest.fixture
def kv_storage(tmp_path: Path) -> Iterator[ObjectStorage]:
    s = ObjectStorage(tmp_path / "k.sqlite", sqlite=False)
    yield s
    s.close()


def committed(path: Path) -> dict[str, bytes]:
    """What another connection sees: only committed (durable) writes."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return dict(conn.execute("SELECT key, value FROM _cf_KV"))


async def test_values_are_copies_of_rich_data(storage: ObjectStorage) -> None:
    value = {"list": [1, 2.5, "x", None, True], "bytes": b"\x00\x01", "tags": {"a"}}
    value["when"] = dt.datetime(2025, 1, 2, 3, 4, 5)
    await storage.put("k", value)
    value["list"].append("changed")
    got = await storage.get("k")
    assert got == {
        "list": [1, 2.5, "x", None, True],
        "bytes": b"\x00\x01",
        "tags": {"a"},
        "when": dt.datetime(2025, 1, 2, 3, 4, 5),
    }
    assert got.list == [1, 2.5, "x", None, True]  # JS-style attribute access too
    assert await storage.get("missing") is None
    with pytest.raises(DataCloneError, match="could not be cloned"):
        await storage.put("k", object())


async def test_get_put_delete_many(storage: ObjectStorage) -> None:
    await storage.put({"b": 2, "a": 1, "c": 3})
    assert await storage.get(["c", "a", "zzz"]) == {"a": 1, "c": 3}
    assert await storage.delete(["a", "zzz"]) == 1
    assert await storage.delete("b") is True
    assert await storage.delete("b") is False
    with pytest.raises(TypeError, match="put\\(\\) called with undefined value."):
        await storage.put("x", None)


async def test_limits_use_workerds_words(storage: ObjectStorage, kv_storage: ObjectStorage) -> None:
    with pytest.raises(
        RangeError, match="Keys cannot be larger than 2048 bytes. A key of size 2049"
    ):
        await storage.put("k" * 2049, 1)
    with pytest.raises(RangeError, match="Maximum number of key value pairs is 128. 129 pairs"):
        await storage.get([f"k{i}" for i in range(129)])
    with pytest.raises(RangeError, match="Values cannot be larger than 131072 bytes."):
        await kv_storage.put("big", "x" * 200_000)
    await storage.put("big", "x" * 200_000)  # SQLite-backed objects allow 2 MB


async def test_list_options(storage: ObjectStorage) -> None:
    await storage.put({k: i for i, k in enumerate(["a", "b1", "b2", "b3", "c"])})
    assert list(await storage.list()) == ["a", "b1", "b2", "b3", "c"]
    assert list(await storage.list(prefix="b")) == ["b1", "b2", "b3"]
    assert list(await storage.list({"start": "b2", "end": "c"})) == ["b2", "b3"]
    assert list(await storage.list(startAfter="b2")) == ["b3", "c"]
    assert list(await storage.list(reverse=True, limit=2)) == ["c", "b3"]
    with pytest.raises(TypeError, match="both start and startAfter"):
        await storage.list(start="a", startAfter="a")
    with pytest.raises(TypeError, match="List limit must be positive."):
        await storage.list(limit=0)


async def test_writes_commit_at_the_output_gate(storage: ObjectStorage) -> None:
    await storage.put("k", 1)
    assert committed(storage.path) == {}  # coalesced until the turn ends or something leaves
    storage.flush()
    assert set(committed(storage.path)) == {"k"}


async def test_transaction_rolls_back_on_error_and_on_request(storage: ObjectStorage) -> None:
    async def fail(txn: object) -> None:
        await txn.put("a", 1)  # type: ignore[attr-defined]
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await storage.transaction(fail)

    async def undo(txn: object) -> str:
        await txn.put("b", 1)  # type: ignore[attr-defined]
        txn.rollback()  # type: ignore[attr-defined]
        return "done"

    assert await storage.transaction(undo) == "done"

    async def keep(txn: object) -> None:
        await txn.put("c", 1)  # type: ignore[attr-defined]
        with pytest.raises(Error, match="Cannot call deleteAll\\(\\) within a transaction"):
            await txn.deleteAll()  # type: ignore[attr-defined]

    await storage.transaction(keep)
    assert await storage.list() == {"c": 1}


async def test_sync_kv_and_delete_all(storage: ObjectStorage, kv_storage: ObjectStorage) -> None:
    storage.kv.put("x", [1, 2])
    assert storage.kv.get("x") == [1, 2]
    assert dict(storage.kv.list()) == {"x": [1, 2]}
    storage.sql.exec("CREATE TABLE t (a)")
    await storage.deleteAll()
    assert await storage.list() == {}
    assert storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 't'").toArray() == []
    with pytest.raises(Error, match="storage.kv \\(synchronous KV\\) API is only available"):
        kv_storage.kv.get("x")
    with pytest.raises(Error, match="not backed by SQLite storage, so the SQL API"):
        kv_storage.sql.exec("SELECT 1")
