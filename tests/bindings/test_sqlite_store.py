import asyncio
import sqlite3
from pathlib import Path

import pytest

from wranglerpy.bindings._sqlite import SQLiteStore, connect, state_dir
from wranglerpy.bindings.streams import ByteStream, read_limited
from wranglerpy.errors import StateError


def test_state_dir_keeps_plain_ids_and_confines_others(tmp_path: Path) -> None:
    assert state_dir(tmp_path, "kv", "abc-123_x.y") == tmp_path / "kv" / "abc-123_x.y"
    for ident in ("..", ".", "../../etc", "a/b", ".hidden", "a\\b"):
        path = state_dir(tmp_path, "d1", ident)
        assert path.parent == tmp_path / "d1"
        assert path.name not in (".", "..") and "/" not in path.name
    assert state_dir(tmp_path, "d1", "a/b") != state_dir(tmp_path, "d1", "a_b")
    with pytest.raises(StateError):
        state_dir(tmp_path, "kv", "")


def test_connect_uses_wal_and_busy_timeout(tmp_path: Path) -> None:
    conn = connect(tmp_path / "deep" / "x.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    conn.close()


def test_connect_rejects_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StateError, match="not a usable SQLite database"):
        connect(bad)


async def test_store_runs_inline_or_offloaded_and_refuses_after_close(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite", lambda c: c.execute("CREATE TABLE t (v)"))
    await store.run(lambda c: c.execute("INSERT INTO t VALUES (1)"))
    await store.run(lambda c: c.execute("INSERT INTO t VALUES (2)"), offload=True)
    rows = await asyncio.gather(
        *[store.run(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]) for _ in range(5)]
    )
    assert rows == [2] * 5
    store.close()
    with pytest.raises(StateError, match="closed"):
        await store.run(lambda c: c.execute("SELECT 1"))
    with pytest.raises(sqlite3.ProgrammingError):
        store.conn.execute("SELECT 1")


async def test_byte_stream_and_read_limited() -> None:
    stream = ByteStream.from_bytes(b"abcdefgh", chunk_size=3)
    assert [c async for c in stream] == [b"abc", b"def", b"gh"]

    async def gen():
        for part in (b"12", b"34", b"56"):
            yield part

    assert await ByteStream(gen()).read_all() == b"123456"
    assert await read_limited(gen(), 6) == (b"123456", 6)
    assert await read_limited(gen(), 5) == (None, 6)
