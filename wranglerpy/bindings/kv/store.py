"""Where a KV namespace keeps its keys: the small interface the binding calls, and the local
SQLite implementation. Other implementations (Redis) live in :mod:`wranglerpy.state`.

A store knows nothing of Cloudflare's rules: keys arrive validated and UTF-8 encoded,
expirations as epoch seconds already checked, metadata as JSON text. It only has to keep
them, hide expired keys (``now`` comes from the binding's clock), and list in byte order.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Protocol

from wranglerpy.bindings._sqlite import SQLiteStore

# Values this large are written on a thread so other requests keep flowing meanwhile.
OFFLOAD_BYTES = 1024 * 1024
PURGE_EVERY_S = 60.0

Row = tuple[bytes, int | None, str | None]  # value, expiration, metadata
ListRow = tuple[bytes, int | None, str | None]  # key, expiration, metadata


class KVStore(Protocol):
    """The storage of one KV namespace."""

    async def read(self, key: bytes, now: float) -> Row | None:
        """The live row of ``key``; None when missing or expired at ``now``."""

    async def read_many(self, keys: list[bytes], now: float) -> list[Row | None]:
        """``read`` for each key, in the given order."""

    async def write(
        self, key: bytes, value: bytes, expiration: int | None, metadata: str | None, now: float
    ) -> None:
        """Insert or replace ``key``."""

    async def delete(self, key: bytes) -> None:
        """Remove ``key``; a missing key is not an error."""

    async def scan(
        self, prefix: bytes, after: bytes | None, now: float, limit: int
    ) -> list[ListRow]:
        """Up to ``limit`` live keys starting with ``prefix`` and above ``after``, in byte
        order."""

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key BLOB PRIMARY KEY,  -- UTF-8 bytes: ORDER BY gives Cloudflare's byte order
    value BLOB NOT NULL,
    expiration INTEGER,    -- epoch seconds, NULL = never
    metadata TEXT          -- JSON, NULL = none
);
CREATE INDEX IF NOT EXISTS kv_expiration ON kv (expiration) WHERE expiration IS NOT NULL;
"""


def _setup(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


def prefix_upper(prefix: bytes) -> bytes | None:
    """The smallest key above every key starting with ``prefix`` (UTF-8 never has 0xFF)."""
    if not prefix:
        return None
    return prefix[:-1] + bytes([prefix[-1] + 1])


def _expired(expiration: int | None, now: float) -> bool:
    return expiration is not None and expiration <= now


class SQLiteKVStore:
    """One SQLite file per namespace (WAL: shared by every process on this machine)."""

    def __init__(self, path: Path, *, now: float = 0.0) -> None:
        self.sqlite = SQLiteStore(path, _setup)
        self._last_purge = now

    async def read(self, key: bytes, now: float) -> Row | None:
        def read(conn: sqlite3.Connection) -> Row | None:
            row: Row | None = conn.execute(
                "SELECT value, expiration, metadata FROM kv WHERE key = ?", (key,)
            ).fetchone()
            return None if row is None or _expired(row[1], now) else row

        return await self.sqlite.run(read)

    async def read_many(self, keys: list[bytes], now: float) -> list[Row | None]:
        if not keys:
            return []

        def read(conn: sqlite3.Connection) -> list[Row | None]:
            marks = ",".join("?" * len(keys))
            rows = {
                r[0]: (r[1], r[2], r[3])
                for r in conn.execute(
                    f"SELECT key, value, expiration, metadata FROM kv WHERE key IN ({marks})",
                    keys,
                )
            }
            found = [rows.get(k) for k in keys]
            return [None if r is None or _expired(r[1], now) else r for r in found]

        return await self.sqlite.run(read)

    async def write(
        self, key: bytes, value: bytes, expiration: int | None, metadata: str | None, now: float
    ) -> None:
        row = (key, value, expiration, metadata)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO kv (key, value, expiration, metadata) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "expiration = excluded.expiration, metadata = excluded.metadata",
                row,
            )

        await self.sqlite.run(write, offload=len(value) >= OFFLOAD_BYTES)
        await self._maybe_purge(now)

    async def delete(self, key: bytes) -> None:
        await self.sqlite.run(lambda c: c.execute("DELETE FROM kv WHERE key = ?", (key,)))

    async def scan(
        self, prefix: bytes, after: bytes | None, now: float, limit: int
    ) -> list[ListRow]:
        upper = prefix_upper(prefix)

        def read(conn: sqlite3.Connection) -> list[ListRow]:
            where = ["key >= ?", "(expiration IS NULL OR expiration > ?)"]
            args: list[Any] = [prefix, int(now)]
            if upper is not None:
                where.append("key < ?")
                args.append(upper)
            if after is not None:
                where.append("key > ?")
                args.append(after)
            sql = (
                f"SELECT key, expiration, metadata FROM kv WHERE {' AND '.join(where)} "
                "ORDER BY key LIMIT ?"
            )
            return [(bytes(r[0]), r[1], r[2]) for r in conn.execute(sql, (*args, limit))]

        return await self.sqlite.run(read)

    async def _maybe_purge(self, now: float) -> None:
        # Expired rows are already invisible; this only gives their space back, now and then.
        if now - self._last_purge < PURGE_EVERY_S:
            return
        self._last_purge = now
        await self.sqlite.run(
            lambda c: c.execute(
                "DELETE FROM kv WHERE expiration IS NOT NULL AND expiration <= ?", (int(now),)
            )
        )

    def close(self) -> None:
        self.sqlite.close()
