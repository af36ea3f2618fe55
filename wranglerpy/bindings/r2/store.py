"""The bucket's SQLite side: object rows, multipart uploads and parts.

Every function takes the connection and runs in one short transaction; conditional writes
check their ``onlyIf`` inside the same ``BEGIN IMMEDIATE`` transaction as the write, so two
processes racing on one key cannot both win.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from wranglerpy.bindings.r2.meta import Conditions
from wranglerpy.bindings.r2.objects import Record

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key BLOB PRIMARY KEY,      -- UTF-8 bytes: ORDER BY gives R2's lexicographic order
    version TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    uploaded INTEGER NOT NULL, -- epoch ms
    http_metadata TEXT NOT NULL,
    custom_metadata TEXT NOT NULL,
    checksums TEXT NOT NULL,
    data BLOB,                 -- content of small objects
    blob TEXT                  -- else the id of the file under blobs/
);
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    key BLOB NOT NULL,
    http_metadata TEXT NOT NULL,
    custom_metadata TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL REFERENCES uploads (upload_id),
    part_number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    blob TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
"""

META_COLUMNS = "key, version, size, etag, uploaded, http_metadata, custom_metadata, checksums"


def setup(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def transaction(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``fn`` inside ``BEGIN IMMEDIATE`` (the write lock first, so reads are current)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def to_record(row: Sequence[Any]) -> Record:
    return Record(
        key=bytes(row[0]).decode("utf-8", "surrogatepass"),
        version=row[1],
        size=row[2],
        etag=row[3],
        uploaded=row[4],
        http_metadata=json.loads(row[5]),
        custom_metadata=json.loads(row[6]),
        checksums=json.loads(row[7]),
        data=None if len(row) < 9 or row[8] is None else bytes(row[8]),
        blob=row[9] if len(row) > 9 else None,
    )


def read(conn: sqlite3.Connection, key: bytes, with_content: bool) -> Record | None:
    extra = ", data, blob" if with_content else ""
    row = conn.execute(
        f"SELECT {META_COLUMNS}{extra} FROM objects WHERE key = ?", (key,)
    ).fetchone()
    return None if row is None else to_record(row)


class PreconditionFailed(Exception):
    """Raised inside a transaction to roll it back when ``onlyIf`` fails."""


def put_in_transaction(conn: sqlite3.Connection, key: bytes, record: Record) -> str | None:
    """Insert or replace ``key`` (caller holds the transaction); the old version's blob id."""
    old = conn.execute("SELECT blob FROM objects WHERE key = ?", (key,)).fetchone()
    conn.execute(
        f"INSERT OR REPLACE INTO objects ({META_COLUMNS}, data, blob) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            key,
            record.version,
            record.size,
            record.etag,
            record.uploaded,
            json.dumps(record.http_metadata),
            json.dumps(record.custom_metadata),
            json.dumps(record.checksums),
            record.data,
            record.blob,
        ),
    )
    return old[0] if old else None


def put(
    conn: sqlite3.Connection, key: bytes, record: Record, cond: Conditions | None
) -> str | None:
    """Insert or replace ``key`` if ``cond`` holds; the blob id the old version used."""

    def write(c: sqlite3.Connection) -> str | None:
        if cond is not None:
            old = c.execute("SELECT etag, uploaded FROM objects WHERE key = ?", (key,)).fetchone()
            if not cond.passes(old and old[0], old and old[1]):
                raise PreconditionFailed
        return put_in_transaction(c, key, record)

    return transaction(conn, write)


def delete(conn: sqlite3.Connection, keys: list[bytes]) -> list[str]:
    """Delete ``keys``; the blob ids they used."""

    def write(c: sqlite3.Connection) -> list[str]:
        blobs: list[str] = []
        for key in keys:
            row = c.execute("DELETE FROM objects WHERE key = ? RETURNING blob", (key,)).fetchone()
            if row and row[0]:
                blobs.append(row[0])
        return blobs

    return transaction(conn, write)


def scan(
    conn: sqlite3.Connection, start: bytes, upper: bytes | None, limit: int
) -> list[tuple[Any, ...]]:
    """Up to ``limit`` object rows (metadata only) with ``start <= key < upper``, in key order."""
    if upper is None:
        sql = f"SELECT {META_COLUMNS} FROM objects WHERE key >= ? ORDER BY key LIMIT ?"
        return conn.execute(sql, (start, limit)).fetchall()
    sql = f"SELECT {META_COLUMNS} FROM objects WHERE key >= ? AND key < ? ORDER BY key LIMIT ?"
    return conn.execute(sql, (start, upper, limit)).fetchall()


def keys_after(
    conn: sqlite3.Connection, prefix: bytes, after: bytes | None, limit: int
) -> list[bytes]:
    """Up to ``limit`` keys starting with ``prefix`` and above ``after``, in key order."""
    where = ["key >= ?"]
    args: list[Any] = [prefix]
    if prefix:
        where.append("key < ?")
        args.append(prefix[:-1] + bytes([prefix[-1] + 1]))  # UTF-8 never has 0xFF
    if after is not None:
        where.append("key > ?")
        args.append(after)
    sql = f"SELECT key FROM objects WHERE {' AND '.join(where)} ORDER BY key LIMIT ?"
    return [bytes(r[0]) for r in conn.execute(sql, (*args, limit))]


def read_many(conn: sqlite3.Connection, keys: list[bytes]) -> list[tuple[Any, ...]]:
    """The object rows (metadata only) of ``keys`` that exist, in no particular order."""
    rows: list[tuple[Any, ...]] = []
    for i in range(0, len(keys), 500):  # under SQLite's bound-parameter limit
        batch = keys[i : i + 500]
        marks = ",".join("?" * len(batch))
        sql = f"SELECT {META_COLUMNS} FROM objects WHERE key IN ({marks})"
        rows += conn.execute(sql, batch).fetchall()
    return rows


def referenced_blobs(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT blob FROM objects WHERE blob IS NOT NULL UNION SELECT blob FROM parts"
    ).fetchall()
    return {r[0] for r in rows}


def list_parts(conn: sqlite3.Connection, upload_id: str) -> list[tuple[int, int, str]] | None:
    """``(part number, size, etag)`` of an upload's parts in order; None when there is no such
    upload (S3's ListParts; the binding has no Cloudflare call for it)."""
    if conn.execute("SELECT 1 FROM uploads WHERE upload_id = ?", (upload_id,)).fetchone() is None:
        return None
    rows = conn.execute(
        "SELECT part_number, size, etag FROM parts WHERE upload_id = ? ORDER BY part_number",
        (upload_id,),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def list_uploads(conn: sqlite3.Connection, prefix: bytes) -> list[tuple[str, str, int]]:
    """``(key, upload id, created ms)`` of the uploads in progress under ``prefix``, by key."""
    rows = conn.execute(
        "SELECT key, upload_id, created FROM uploads ORDER BY key, created"
    ).fetchall()
    return [
        (bytes(r[0]).decode("utf-8", "surrogatepass"), r[1], r[2])
        for r in rows
        if bytes(r[0]).startswith(prefix)
    ]
