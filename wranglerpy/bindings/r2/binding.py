"""The local R2 bucket: Cloudflare's R2 binding API over SQLite rows plus blob files."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import sqlite3
import time
from collections.abc import AsyncIterable, Callable
from pathlib import Path
from typing import IO, Any

from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.bindings.r2 import blobs, store
from wranglerpy.bindings.r2 import errors as e
from wranglerpy.bindings.r2 import meta as m
from wranglerpy.bindings.r2.multipart import R2MultipartUpload, Uploads
from wranglerpy.bindings.r2.objects import HASHES, R2Object, R2ObjectBody, Record
from wranglerpy.jsobject import JSObject, options

# Objects up to this size live inside their SQLite row (one write, no file, no fsync).
INLINE_MAX = 64 * 1024
# Content this large is read and written on a thread so other requests keep flowing.
OFFLOAD_BYTES = 1024 * 1024
PUT_OPTIONS = {"httpMetadata", "customMetadata", "onlyIf", "storageClass", *HASHES}
LIST_INCLUDE = ("httpMetadata", "customMetadata")


def _upper(prefix: bytes) -> bytes | None:
    """The smallest key above every key starting with ``prefix`` (UTF-8 never has 0xFF)."""
    return prefix[:-1] + bytes([prefix[-1] + 1]) if prefix else None


def _hex_digest(op: str, name: str, value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, str):
        try:
            return bytes.fromhex(value).hex()
        except ValueError:
            raise e.fail(op, e.INVALID_ARGUMENT, f"({name} must be hex or bytes)") from None
    raise e.fail(op, e.INVALID_ARGUMENT, f"({name} must be hex or bytes)")


class R2BucketBinding:
    """``env.<R2 binding>``: head/get/put/delete/list and multipart uploads.

    ``clock`` returns epoch seconds; tests pass a fake one.
    """

    def __init__(
        self, folder: Path, *, bucket_name: str = "", clock: Callable[[], float] = time.time
    ) -> None:
        self.bucket_name = bucket_name
        self._blobs = folder / "blobs"
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._db = SQLiteStore(folder / "meta.sqlite", store.setup)
        blobs.sweep(self._blobs, self._db.call(store.referenced_blobs))
        self._uploads = Uploads(self._db, self._blobs, clock)

    def __repr__(self) -> str:
        return f"R2Bucket({self.bucket_name!r})"

    def close(self) -> None:
        self._db.close()

    # -- reads ---------------------------------------------------------------------------

    async def head(self, key: Any) -> R2Object | None:
        encoded = e.check_key("head", key)
        record = await self._db.run(lambda c: store.read(c, encoded, False))
        return None if record is None else R2Object(record)

    async def get(self, key: Any, opts: Any = None, **kwargs: Any) -> R2Object | None:
        """The object with its body; None when missing; without body when ``onlyIf`` fails."""
        encoded = e.check_key("get", key)
        merged = options(opts, **kwargs)
        unknown = sorted(set(merged) - {"onlyIf", "range"})
        if unknown:
            raise e.fail("get", e.INVALID_ARGUMENT, f"(unknown options: {unknown})")
        cond = m.conditions(merged.get("onlyIf"), "get")
        for _attempt in range(5):
            record = await self._db.run(lambda c: store.read(c, encoded, True))
            if record is None:
                return None
            if cond is not None and not cond.passes(record.etag, record.uploaded):
                return R2Object(record)
            span = m.byte_range(merged.get("range"), record.size, "get")
            content = await self._content(record, span)
            if content is not None:
                return R2ObjectBody(record, span, content)
        raise e.fail("get", (10001, "We encountered an internal error. Please try again."))

    async def _content(
        self, record: Record, span: tuple[int, int] | None
    ) -> bytes | IO[bytes] | None:
        """The (ranged) content: bytes, or for large ranges an open file positioned at it.

        None when another writer replaced the object's blob since the row was read.
        """
        offset, length = span or (0, record.size)
        if record.blob is None:
            return (record.data or b"")[offset : offset + length]
        try:
            handle = open(self._blobs / record.blob, "rb")  # noqa: SIM115 - owned by the body
        except FileNotFoundError:
            return None
        if offset:
            handle.seek(offset)
        if length <= OFFLOAD_BYTES:
            with handle:
                return handle.read(length)
        return handle

    async def list(self, opts: Any = None, **kwargs: Any) -> JSObject:
        """``{objects, delimitedPrefixes, truncated, cursor?}`` in key order."""
        merged = options(opts, **kwargs)
        known = {"prefix", "delimiter", "cursor", "limit", "startAfter", "include"}
        unknown = sorted(set(merged) - known)
        if unknown:
            raise e.fail("list", e.INVALID_ARGUMENT, f"(unknown options: {unknown})")
        limit = merged.get("limit")
        if limit is None:
            limit = e.MAX_LIST_LIMIT
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
            raise e.fail("list", e.INVALID_MAX_KEYS)
        raw_include = merged.get("include") or ()
        if isinstance(raw_include, str) or not isinstance(raw_include, (list, tuple)):
            raise e.fail("list", e.INVALID_ARGUMENT, "(include must be a list of strings)")
        include = tuple(raw_include)
        bad = [i for i in include if i not in LIST_INCLUDE]
        if bad:
            raise e.fail("list", e.INVALID_ARGUMENT, f"(include accepts {list(LIST_INCLUDE)})")
        prefix = self._text("prefix", merged.get("prefix")).encode("utf-8", "surrogatepass")
        delimiter = self._text("delimiter", merged.get("delimiter")).encode("utf-8")
        start = prefix
        if merged.get("startAfter"):
            after = self._text("startAfter", merged["startAfter"]).encode("utf-8")
            start = max(start, after + b"\x00")
        if merged.get("cursor"):
            start = max(start, _decode_cursor(merged["cursor"]))
        upper = _upper(prefix)
        result = await self._db.run(
            lambda c: _list_page(c, prefix, delimiter, start, upper, limit),
            offload=limit > 100,
        )
        rows, prefixes, next_start, truncated = result
        out = JSObject(
            objects=[R2Object(store.to_record(r), include=include) for r in rows],
            delimitedPrefixes=prefixes,
            truncated=truncated,
        )
        if truncated:
            out["cursor"] = base64.urlsafe_b64encode(next_start).decode().rstrip("=")
        return out

    @staticmethod
    def _text(name: str, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise e.fail("list", e.INVALID_ARGUMENT, f"({name} must be a string)")
        return value

    # -- writes --------------------------------------------------------------------------

    async def put(self, key: Any, value: Any, opts: Any = None, **kwargs: Any) -> R2Object | None:
        """Store ``value`` (str, bytes, async iterable of bytes or None); None if ``onlyIf``
        fails."""
        encoded = e.check_key("put", key)
        merged = options(opts, **kwargs)
        unknown = sorted(set(merged) - PUT_OPTIONS)
        if unknown:
            raise e.fail("put", e.INVALID_ARGUMENT, f"(unknown options: {unknown})")
        expected = {h: _hex_digest("put", h, merged[h]) for h in HASHES if merged.get(h)}
        if len(expected) > 1:
            raise e.fail("put", e.INVALID_ARGUMENT, "(You cannot specify multiple hashes)")
        record = Record(
            key=key,
            version=blobs.new_id(),
            size=0,
            etag="",
            uploaded=int(self._clock() * 1000),
            http_metadata=m.http_metadata(merged.get("httpMetadata"), "put"),
            custom_metadata=m.custom_metadata(merged.get("customMetadata"), "put"),
        )
        cond = m.conditions(merged.get("onlyIf"), "put")
        await self._fill(record, value, tuple(expected))
        try:
            for name, digest in expected.items():
                if record.checksums[name] != digest:
                    raise e.fail("put", e.BAD_DIGEST, algorithm=name.upper())
            record.etag = record.checksums["md5"]
            try:
                old = await self._db.run(
                    lambda c: store.put(c, encoded, record, cond), offload=record.blob is not None
                )
            except store.PreconditionFailed:
                blobs.remove(self._blobs, [record.blob])
                return None
        except BaseException:
            blobs.remove(self._blobs, [record.blob])
            raise
        if old and old != record.blob:
            blobs.remove(self._blobs, [old])
        return R2Object(record)

    async def _fill(self, record: Record, value: Any, algorithms: tuple[str, ...]) -> None:
        """Set the record's content (inline bytes or a durable blob), size and checksums."""
        if value is None:
            value = b""
        if isinstance(value, str):
            value = value.encode("utf-8", "surrogatepass")
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            if len(data) > e.MAX_PUT_SIZE:
                raise e.fail("put", e.ENTITY_TOO_LARGE)
            record.size = len(data)
            if len(data) <= INLINE_MAX:
                record.data = data
                record.checksums = {
                    a: hashlib.new(a, data).hexdigest() for a in {"md5", *algorithms}
                }
                return
            writer = await asyncio.to_thread(blobs.write_blob, self._blobs, data, algorithms)
            record.blob, record.checksums = writer.id, writer.digests()
            return
        if not isinstance(value, AsyncIterable):
            raise e.fail(
                "put",
                e.INVALID_ARGUMENT,
                f"(value must be str, bytes, an async iterable of bytes or None; "
                f"got {type(value).__name__})",
            )
        # Small streams end up inline like small byte strings: buffer until past INLINE_MAX.
        iterator = value.__aiter__()
        head: list[bytes] = []
        size = 0
        async for chunk in iterator:
            head.append(bytes(chunk))
            size += len(chunk)
            if size > INLINE_MAX:
                break
        else:
            await self._fill(record, b"".join(head), algorithms)
            return
        writer = blobs.BlobWriter(self._blobs, algorithms)
        try:
            for chunk in head:
                writer.write(chunk)
            async for chunk in iterator:
                writer.write(bytes(chunk))
                if writer.size > e.MAX_PUT_SIZE:
                    raise e.fail("put", e.ENTITY_TOO_LARGE)
            if writer.size > e.MAX_PUT_SIZE:
                raise e.fail("put", e.ENTITY_TOO_LARGE)
            await asyncio.to_thread(writer.finish)
        except BaseException:
            writer.discard()
            raise
        record.size, record.blob, record.checksums = writer.size, writer.id, writer.digests()

    async def delete(self, keys: Any) -> None:
        """Delete one key or a list of keys (up to 1000); missing keys are not an error."""
        names = list(keys) if isinstance(keys, (list, tuple)) else [keys]
        if len(names) > 1000:
            raise e.fail("delete", e.INVALID_ARGUMENT, "(at most 1000 keys per call)")
        encoded = [e.check_key("delete", k) for k in names]
        if not encoded:
            return
        gone = await self._db.run(lambda c: store.delete(c, encoded))
        blobs.remove(self._blobs, gone)

    # -- multipart -----------------------------------------------------------------------

    async def createMultipartUpload(  # noqa: N802 - the JS name
        self, key: Any, opts: Any = None, **kwargs: Any
    ) -> R2MultipartUpload:
        encoded = e.check_key("createMultipartUpload", key)
        merged = options(opts, **kwargs)
        unknown = sorted(set(merged) - {"httpMetadata", "customMetadata", "storageClass"})
        if unknown:
            raise e.fail("createMultipartUpload", e.INVALID_ARGUMENT, f"(unknown: {unknown})")
        http = m.http_metadata(merged.get("httpMetadata"), "createMultipartUpload")
        custom = m.custom_metadata(merged.get("customMetadata"), "createMultipartUpload")
        upload_id = await self._uploads.create(encoded, http, custom)
        return R2MultipartUpload(self._uploads, key, upload_id)

    def resumeMultipartUpload(self, key: Any, upload_id: Any) -> R2MultipartUpload:  # noqa: N802
        """A handle on an existing upload (not checked until it is used, as on R2)."""
        e.check_key("resumeMultipartUpload", key)
        if not isinstance(upload_id, str) or not upload_id:
            raise e.fail("resumeMultipartUpload", e.NO_SUCH_UPLOAD)
        return R2MultipartUpload(self._uploads, key, upload_id)


def _decode_cursor(cursor: Any) -> bytes:
    if not isinstance(cursor, str):
        raise e.fail("list", e.INVALID_ARGUMENT, "(cursor must be a string)")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise e.fail("list", e.INVALID_ARGUMENT, f"(invalid cursor {cursor!r})") from None


def _list_page(
    conn: sqlite3.Connection,
    prefix: bytes,
    delimiter: bytes,
    start: bytes,
    upper: bytes | None,
    limit: int,
) -> tuple[list[tuple[Any, ...]], list[str], bytes, bool]:
    """One page: object rows, delimited prefixes (both count toward ``limit``), the next
    start key and whether anything is left."""
    rows: list[tuple[Any, ...]] = []
    prefixes: list[str] = []
    while len(rows) + len(prefixes) < limit:
        batch = store.scan(conn, start, upper, limit - len(rows) - len(prefixes))
        if not batch:
            return rows, prefixes, start, False
        for row in batch:
            key = bytes(row[0])
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                prefixes.append(common.decode("utf-8", "surrogatepass"))
                start = _upper(common) or start
                break  # everything under ``common`` is skipped: query again from past it
            rows.append(row)
            start = key + b"\x00"
    more = bool(store.scan(conn, start, upper, 1))
    return rows, prefixes, start, more
