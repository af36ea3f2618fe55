"""Multipart uploads: parts are blobs named by generated ids; completion joins them into one
object with an S3-style etag (md5 of the parts' md5s, then ``-<part count>``)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import AsyncIterable, Callable, Mapping
from pathlib import Path
from typing import Any

from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.bindings.r2 import blobs, store
from wranglerpy.bindings.r2 import errors as e
from wranglerpy.bindings.r2.objects import R2Object, Record
from wranglerpy.jsobject import JSObject


class Uploads:
    """The upload/part tables of one bucket plus its blob folder."""

    def __init__(self, db: SQLiteStore, folder: Path, clock: Callable[[], float]) -> None:
        self._db = db
        self._blobs = folder
        self._clock = clock

    async def create(self, key: bytes, http: dict[str, Any], custom: dict[str, str]) -> str:
        upload_id = blobs.new_id()
        row = (upload_id, key, json.dumps(http), json.dumps(custom), int(self._clock() * 1000))
        await self._db.run(
            lambda c: c.execute(
                "INSERT INTO uploads (upload_id, key, http_metadata, custom_metadata, created) "
                "VALUES (?, ?, ?, ?, ?)",
                row,
            )
        )
        return upload_id

    @staticmethod
    def _check(c: sqlite3.Connection, op: str, upload_id: str, key: bytes) -> tuple[Any, ...]:
        row = c.execute(
            "SELECT key, http_metadata, custom_metadata FROM uploads WHERE upload_id = ?",
            (upload_id,),
        ).fetchone()
        if row is None or bytes(row[0]) != key:
            raise e.fail(op, e.NO_SUCH_UPLOAD)
        return tuple(row)

    async def upload_part(self, key: bytes, upload_id: str, number: Any, value: Any) -> JSObject:
        op = "uploadPart"
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 10_000:
            raise e.fail(op, e.INVALID_ARGUMENT, "(partNumber must be an integer 1..10000)")
        await self._db.run(lambda c: self._check(c, op, upload_id, key))
        writer = await self._write(value)
        etag = writer.digests()["md5"]

        def record(c: sqlite3.Connection) -> str | None:
            self._check(c, op, upload_id, key)
            old = c.execute(
                "SELECT blob FROM parts WHERE upload_id = ? AND part_number = ?",
                (upload_id, number),
            ).fetchone()
            c.execute(
                "INSERT OR REPLACE INTO parts (upload_id, part_number, size, etag, blob) "
                "VALUES (?, ?, ?, ?, ?)",
                (upload_id, number, writer.size, etag, writer.id),
            )
            return old[0] if old else None

        try:
            old = await self._db.run(lambda c: store.transaction(c, record))
        except BaseException:
            blobs.remove(self._blobs, [writer.id])
            raise
        blobs.remove(self._blobs, [old])
        return JSObject(partNumber=number, etag=etag)

    async def _write(self, value: Any) -> blobs.BlobWriter:
        if isinstance(value, str):
            value = value.encode("utf-8", "surrogatepass")
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            if len(data) > e.MAX_PART_SIZE:
                raise e.fail("uploadPart", e.ENTITY_TOO_LARGE)
            return await asyncio.to_thread(blobs.write_blob, self._blobs, data)
        if not isinstance(value, AsyncIterable):
            raise e.fail(
                "uploadPart",
                e.INVALID_ARGUMENT,
                f"(value must be str, bytes or an async iterable of bytes; got {type(value).__name__})",
            )
        writer = blobs.BlobWriter(self._blobs)
        try:
            async for chunk in value:
                writer.write(bytes(chunk))
                if writer.size > e.MAX_PART_SIZE:
                    raise e.fail("uploadPart", e.ENTITY_TOO_LARGE)
            await asyncio.to_thread(writer.finish)
        except BaseException:
            writer.discard()
            raise
        return writer

    async def abort(self, key: bytes, upload_id: str) -> None:
        def drop(c: sqlite3.Connection) -> list[str]:
            self._check(c, "abort", upload_id, key)
            return self._drop(c, upload_id)

        gone = await self._db.run(lambda c: store.transaction(c, drop))
        blobs.remove(self._blobs, gone)

    @staticmethod
    def _drop(c: sqlite3.Connection, upload_id: str) -> list[str]:
        rows = c.execute("SELECT blob FROM parts WHERE upload_id = ?", (upload_id,)).fetchall()
        c.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
        c.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
        return [r[0] for r in rows]

    async def complete(self, key: bytes, upload_id: str, parts: Any) -> R2Object:
        op = "complete"
        wanted = _parse_parts(parts)

        def stored(c: sqlite3.Connection) -> tuple[tuple[Any, ...], dict[int, tuple[Any, ...]]]:
            upload = self._check(c, op, upload_id, key)
            rows = c.execute(
                "SELECT part_number, size, etag, blob FROM parts WHERE upload_id = ?",
                (upload_id,),
            ).fetchall()
            return upload, {r[0]: tuple(r) for r in rows}

        upload, have = await self._db.run(lambda c: stored(c))
        chosen = []
        for number, etag in wanted:
            part = have.get(number)
            if part is None or part[2] != etag:
                raise e.fail(op, e.INVALID_PART, f"(part {number})")
            chosen.append(part)
        _check_sizes(chosen)
        joined = await asyncio.to_thread(blobs.concatenate, self._blobs, [p[3] for p in chosen])
        md5s = b"".join(bytes.fromhex(p[2]) for p in chosen)
        record = Record(
            key=key.decode("utf-8", "surrogatepass"),
            version=blobs.new_id(),
            size=sum(p[1] for p in chosen),
            etag=f"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}",
            uploaded=int(self._clock() * 1000),
            http_metadata=json.loads(upload[1]),
            custom_metadata=json.loads(upload[2]),
            blob=joined,
        )

        def commit(c: sqlite3.Connection) -> list[str | None]:
            self._check(c, op, upload_id, key)  # not aborted or completed meanwhile
            old = store.put_in_transaction(c, key, record)
            return [old, *self._drop(c, upload_id)]

        try:
            gone = await self._db.run(lambda c: store.transaction(c, commit))
        except BaseException:
            blobs.remove(self._blobs, [joined])
            raise
        blobs.remove(self._blobs, [g for g in gone if g != joined])
        return R2Object(record)


def _parse_parts(parts: Any) -> list[tuple[int, str]]:
    if hasattr(parts, "to_py") and not isinstance(parts, list):
        parts = parts.to_py()
    if not isinstance(parts, (list, tuple)) or not parts:
        raise e.fail("complete", e.BAD_UPLOAD, "(complete() needs a non-empty list of parts)")
    out: dict[int, str] = {}
    for part in parts:
        if not isinstance(part, Mapping) or "partNumber" not in part or "etag" not in part:
            raise e.fail("complete", e.INVALID_PART, "(each part needs partNumber and etag)")
        number = part["partNumber"]
        if number in out:
            raise e.fail("complete", e.INVALID_PART, f"(part {number} is listed twice)")
        out[number] = str(part["etag"]).strip('"')
    # Parts are joined in part-number order, whatever order the list gives.
    return sorted(out.items())


def _check_sizes(parts: list[tuple[Any, ...]]) -> None:
    """R2's rules: every part but the last >= 5 MiB, all of one size, the last no larger."""
    *body, last = parts
    for number, size, *_ in body:
        if size < e.MIN_PART_SIZE:
            raise e.fail(
                "complete",
                e.ENTITY_TOO_SMALL,
                f"(part {number} is {size} bytes; every part but the last needs >= 5 MiB)",
            )
    sizes = {p[1] for p in body}
    if len(sizes) > 1 or (body and last[1] > body[0][1]):
        raise e.fail(
            "complete",
            e.BAD_UPLOAD,
            "(all parts but the last must have the same size, and the last may not be larger)",
        )


class R2MultipartUpload:
    """``{key, uploadId, uploadPart(), abort(), complete()}``."""

    def __init__(self, uploads: Uploads, key: str, upload_id: str) -> None:
        self._uploads = uploads
        self._key = key.encode("utf-8", "surrogatepass")
        self.key = key
        self.uploadId = upload_id

    def __repr__(self) -> str:
        return f"R2MultipartUpload(key={self.key!r}, uploadId={self.uploadId!r})"

    async def uploadPart(self, partNumber: Any, value: Any) -> JSObject:  # noqa: N802, N803
        return await self._uploads.upload_part(self._key, self.uploadId, partNumber, value)

    async def abort(self) -> None:
        await self._uploads.abort(self._key, self.uploadId)

    async def complete(self, uploadedParts: Any) -> R2Object:  # noqa: N803 - the JS name
        return await self._uploads.complete(self._key, self.uploadId, uploadedParts)
