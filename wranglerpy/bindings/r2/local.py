"""The local R2 store: object rows in ``meta.sqlite`` (small contents inline), larger contents
and multipart parts in ``blobs/`` files named by generated ids (see README.md beside this)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.bindings.r2 import blobs, store
from wranglerpy.bindings.r2.backend import ContentWriter, UploadNotFound
from wranglerpy.bindings.r2.meta import Conditions
from wranglerpy.bindings.r2.objects import Record
from wranglerpy.private_paths import private_dir

# Objects up to this size live inside their SQLite row (one write, no file, no fsync).
INLINE_MAX = 64 * 1024
# Content this large is read and written on a thread so other requests keep flowing.
OFFLOAD_BYTES = 1024 * 1024


def _check(c: sqlite3.Connection, upload_id: str, key: bytes) -> tuple[Any, ...]:
    row = c.execute(
        "SELECT key, http_metadata, custom_metadata FROM uploads WHERE upload_id = ?",
        (upload_id,),
    ).fetchone()
    if row is None or bytes(row[0]) != key:
        raise UploadNotFound(upload_id)
    return tuple(row)


def _drop(c: sqlite3.Connection, upload_id: str) -> list[str]:
    rows = c.execute("SELECT blob FROM parts WHERE upload_id = ?", (upload_id,)).fetchall()
    c.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
    c.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
    return [r[0] for r in rows]


class LocalR2Store:
    """One bucket folder, shared by every process on this machine (SQLite WAL)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.blobs = folder / "blobs"
        private_dir(self.blobs)
        self.db = SQLiteStore(folder / "meta.sqlite", store.setup)
        blobs.sweep(self.blobs, self.db.call(store.referenced_blobs))

    def close(self) -> None:
        self.db.close()

    def writer(self, algorithms: Iterable[str] = ()) -> blobs.BlobWriter:
        return blobs.BlobWriter(self.blobs, algorithms)

    # -- objects -------------------------------------------------------------------------

    async def read(self, key: bytes) -> Record | None:
        return await self.db.run(lambda c: store.read(c, key, True))

    async def content(self, record: Record, offset: int, length: int) -> bytes | IO[bytes] | None:
        if record.blob is None:
            return (record.data or b"")[offset : offset + length]
        try:
            handle = open(self.blobs / record.blob, "rb")  # noqa: SIM115 - owned by the body
        except FileNotFoundError:
            return None  # replaced by another writer since the row was read
        if offset:
            handle.seek(offset)
        if length <= OFFLOAD_BYTES:
            with handle:
                return handle.read(length)
        return handle

    async def put(
        self, key: bytes, record: Record, content: bytes | ContentWriter, cond: Conditions | None
    ) -> bool:
        record.data = record.blob = None
        if isinstance(content, bytes):
            if len(content) <= INLINE_MAX:
                record.data = content
            else:
                writer = await asyncio.to_thread(
                    blobs.write_blob, self.blobs, content, hashing=False
                )
                record.blob = writer.id
        else:
            assert isinstance(content, blobs.BlobWriter)
            try:
                await asyncio.to_thread(content.finish)
            except BaseException:
                content.discard()
                raise
            record.blob = content.id
        try:
            old = await self.db.run(
                lambda c: store.put(c, key, record, cond), offload=record.blob is not None
            )
        except store.PreconditionFailed:
            blobs.remove(self.blobs, [record.blob])
            return False
        except BaseException:
            blobs.remove(self.blobs, [record.blob])
            raise
        if old and old != record.blob:
            blobs.remove(self.blobs, [old])
        return True

    async def delete(self, keys: list[bytes]) -> None:
        gone = await self.db.run(lambda c: store.delete(c, keys))
        blobs.remove(self.blobs, gone)

    async def scan(self, prefix: bytes, after: bytes | None, limit: int) -> list[bytes]:
        # Keys only, off the primary key index: cheap enough to stay on the loop.
        return await self.db.run(lambda c: store.keys_after(c, prefix, after, limit))

    async def records(self, keys: list[bytes]) -> list[Record | None]:
        if not keys:
            return []
        rows = await self.db.run(lambda c: store.read_many(c, keys), offload=len(keys) > 100)
        found = {bytes(r[0]): r for r in rows}
        return [None if k not in found else store.to_record(found[k]) for k in keys]

    # -- multipart -----------------------------------------------------------------------

    async def create_upload(
        self, key: bytes, http: dict[str, object], custom: dict[str, str], created: int
    ) -> str:
        upload_id = blobs.new_id()
        row = (upload_id, key, json.dumps(http), json.dumps(custom), created)
        await self.db.run(
            lambda c: c.execute(
                "INSERT INTO uploads (upload_id, key, http_metadata, custom_metadata, created) "
                "VALUES (?, ?, ?, ?, ?)",
                row,
            )
        )
        return upload_id

    async def check_upload(self, key: bytes, upload_id: str) -> None:
        await self.db.run(lambda c: _check(c, upload_id, key))

    async def put_part(self, key: bytes, upload_id: str, number: int, part: ContentWriter) -> None:
        assert isinstance(part, blobs.BlobWriter)
        try:
            await asyncio.to_thread(part.finish)
        except BaseException:
            part.discard()
            raise
        etag = part.digests()["md5"]

        def record(c: sqlite3.Connection) -> str | None:
            _check(c, upload_id, key)
            old = c.execute(
                "SELECT blob FROM parts WHERE upload_id = ? AND part_number = ?",
                (upload_id, number),
            ).fetchone()
            c.execute(
                "INSERT OR REPLACE INTO parts (upload_id, part_number, size, etag, blob) "
                "VALUES (?, ?, ?, ?, ?)",
                (upload_id, number, part.size, etag, part.id),
            )
            return old[0] if old else None

        try:
            old = await self.db.run(lambda c: store.transaction(c, record))
        except BaseException:
            blobs.remove(self.blobs, [part.id])
            raise
        blobs.remove(self.blobs, [old])

    async def parts(self, key: bytes, upload_id: str) -> dict[int, tuple[int, str]]:
        def read(c: sqlite3.Connection) -> dict[int, tuple[int, str]]:
            _check(c, upload_id, key)
            rows = c.execute(
                "SELECT part_number, size, etag FROM parts WHERE upload_id = ?", (upload_id,)
            ).fetchall()
            return {r[0]: (r[1], r[2]) for r in rows}

        return await self.db.run(read)

    async def complete(
        self, key: bytes, upload_id: str, numbers: list[int], record: Record
    ) -> Record:
        def part_blobs(c: sqlite3.Connection) -> dict[int, str]:
            _check(c, upload_id, key)
            rows = c.execute(
                "SELECT part_number, blob FROM parts WHERE upload_id = ?", (upload_id,)
            ).fetchall()
            return {r[0]: r[1] for r in rows}

        have = await self.db.run(part_blobs)
        joined = await asyncio.to_thread(blobs.concatenate, self.blobs, [have[n] for n in numbers])
        record.data, record.blob = None, joined

        def commit(c: sqlite3.Connection) -> list[str | None]:
            upload = _check(c, upload_id, key)  # not aborted or completed meanwhile
            record.http_metadata = json.loads(upload[1])
            record.custom_metadata = json.loads(upload[2])
            old = store.put_in_transaction(c, key, record)
            return [old, *_drop(c, upload_id)]

        try:
            gone = await self.db.run(lambda c: store.transaction(c, commit))
        except BaseException:
            blobs.remove(self.blobs, [joined])
            raise
        blobs.remove(self.blobs, [g for g in gone if g != joined])
        return record

    async def abort(self, key: bytes, upload_id: str) -> None:
        def drop(c: sqlite3.Connection) -> list[str]:
            _check(c, upload_id, key)
            return _drop(c, upload_id)

        gone = await self.db.run(lambda c: store.transaction(c, drop))
        blobs.remove(self.blobs, gone)
