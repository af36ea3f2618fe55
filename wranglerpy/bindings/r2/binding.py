"""``env.<R2>``: Cloudflare's R2 binding API (validation, checksums, ``onlyIf``, ranges, list
pages and delimiters), written once over an :class:`~wranglerpy.bindings.r2.backend.R2Store`
(local SQLite rows and blob files, or an S3 server)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import builtins
import hashlib
import time
from collections.abc import AsyncIterable, Callable
from pathlib import Path
from typing import Any

from wranglerpy.bindings.r2 import blobs
from wranglerpy.bindings.r2 import errors as e
from wranglerpy.bindings.r2 import meta as m
from wranglerpy.bindings.r2.backend import ContentWriter, R2Store
from wranglerpy.bindings.r2.local import LocalR2Store
from wranglerpy.bindings.r2.multipart import R2MultipartUpload, Uploads
from wranglerpy.bindings.r2.objects import HASHES, R2Object, R2ObjectBody, Record
from wranglerpy.jsobject import JSObject, options

# Streams up to this size are collected into bytes (a small object is one write, not a file).
BUFFER_MAX = 64 * 1024
# Content this large is hashed on a thread so other requests keep flowing.
OFFLOAD_BYTES = 1024 * 1024
# Above every key that starts with a given prefix: UTF-8 never has this byte.
PAST_PREFIX = b"\xff"
PUT_OPTIONS = {"httpMetadata", "customMetadata", "onlyIf", "storageClass", *HASHES}
LIST_INCLUDE = ("httpMetadata", "customMetadata")


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

    ``store`` is where objects live: an :class:`R2Store`, or the folder of a local bucket.
    ``clock`` returns epoch seconds; tests pass a fake one.
    """

    def __init__(
        self,
        store: Path | R2Store,
        *,
        bucket_name: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bucket_name = bucket_name
        self._clock = clock
        self._store: R2Store = LocalR2Store(store) if isinstance(store, Path) else store
        self._uploads = Uploads(self._store, clock)

    def __repr__(self) -> str:
        return f"R2Bucket({self.bucket_name!r})"

    def close(self) -> None:
        self._store.close()

    # -- reads ---------------------------------------------------------------------------

    async def head(self, key: Any) -> R2Object | None:
        encoded = e.check_key("head", key)
        record = await self._store.read(encoded)
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
            record = await self._store.read(encoded)
            if record is None:
                return None
            if cond is not None and not cond.passes(record.etag, record.uploaded):
                return R2Object(record)
            span = m.byte_range(merged.get("range"), record.size, "get")
            offset, length = span or (0, record.size)
            content = await self._store.content(record, offset, length)
            if content is not None:
                return R2ObjectBody(record, span, content)
        raise e.fail("get", (10001, "We encountered an internal error. Please try again."))

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
        after: bytes | None = None
        if merged.get("startAfter"):
            after = self._text("startAfter", merged["startAfter"]).encode("utf-8")
        if merged.get("cursor"):
            cursor = _decode_cursor(merged["cursor"])
            after = cursor if after is None else max(after, cursor)
        records, prefixes, last, truncated = await self._list_page(prefix, delimiter, after, limit)
        out = JSObject(
            objects=[R2Object(r, include=include) for r in records],
            delimitedPrefixes=prefixes,
            truncated=truncated,
        )
        if truncated and last is not None:
            out["cursor"] = base64.urlsafe_b64encode(last).decode().rstrip("=")
        return out

    async def _list_page(
        self, prefix: bytes, delimiter: bytes, after: bytes | None, limit: int
    ) -> tuple[builtins.list[Record], builtins.list[str], bytes | None, bool]:
        """One page: records, delimited prefixes (both count toward ``limit``), the key the
        next page starts after, and whether anything is left."""
        keys: builtins.list[bytes] = []
        prefixes: builtins.list[str] = []
        more = True
        while len(keys) + len(prefixes) < limit:
            batch = await self._store.scan(prefix, after, limit - len(keys) - len(prefixes))
            if not batch:
                more = False
                break
            for key in batch:
                cut = key.find(delimiter, len(prefix)) if delimiter else -1
                if cut >= 0:
                    common = key[: cut + len(delimiter)]
                    prefixes.append(common.decode("utf-8", "surrogatepass"))
                    after = common + PAST_PREFIX
                    break  # everything under ``common`` is skipped: scan again from past it
                keys.append(key)
                after = key
        if more:
            more = bool(await self._store.scan(prefix, after, 1))
        # Records only for the keys listed as objects (not those folded into a prefix); one
        # deleted meanwhile is left out.
        found = await self._store.records(keys)
        return [r for r in found if r is not None], prefixes, after, more

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
        content = await self._fill(record, value, tuple(expected))
        try:
            for name, digest in expected.items():
                if record.checksums[name] != digest:
                    raise e.fail("put", e.BAD_DIGEST, algorithm=name.upper())
        except BaseException:
            if not isinstance(content, bytes):
                content.discard()
            raise
        record.etag = record.checksums["md5"]
        if not await self._store.put(encoded, record, content, cond):
            return None
        return R2Object(record)

    async def _fill(
        self, record: Record, value: Any, algorithms: tuple[str, ...]
    ) -> bytes | ContentWriter:
        """The content (bytes, or a store writer holding a large stream); sets the record's
        size and checksums."""
        if value is None:
            value = b""
        if isinstance(value, str):
            value = value.encode("utf-8", "surrogatepass")
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            if len(data) > e.MAX_PUT_SIZE:
                raise e.fail("put", e.ENTITY_TOO_LARGE)
            record.size = len(data)
            if len(data) < OFFLOAD_BYTES:
                record.checksums = _digests(data, algorithms)
            else:
                record.checksums = await asyncio.to_thread(_digests, data, algorithms)
            return data
        if not isinstance(value, AsyncIterable):
            raise e.fail(
                "put",
                e.INVALID_ARGUMENT,
                f"(value must be str, bytes, an async iterable of bytes or None; "
                f"got {type(value).__name__})",
            )
        # Small streams end up like small byte strings: buffer until past BUFFER_MAX.
        iterator = value.__aiter__()
        head: list[bytes] = []
        size = 0
        async for chunk in iterator:
            head.append(bytes(chunk))
            size += len(chunk)
            if size > BUFFER_MAX:
                break
        else:
            return await self._fill(record, b"".join(head), algorithms)
        writer = self._store.writer(algorithms)
        try:
            for chunk in head:
                writer.write(chunk)
            async for chunk in iterator:
                writer.write(bytes(chunk))
                if writer.size > e.MAX_PUT_SIZE:
                    raise e.fail("put", e.ENTITY_TOO_LARGE)
            if writer.size > e.MAX_PUT_SIZE:
                raise e.fail("put", e.ENTITY_TOO_LARGE)
        except BaseException:
            writer.discard()
            raise
        record.size, record.checksums = writer.size, writer.digests()
        return writer

    async def delete(self, keys: Any) -> None:
        """Delete one key or a list of keys (up to 1000); missing keys are not an error."""
        names = list(keys) if isinstance(keys, (list, tuple)) else [keys]
        if len(names) > 1000:
            raise e.fail("delete", e.INVALID_ARGUMENT, "(at most 1000 keys per call)")
        encoded = [e.check_key("delete", k) for k in names]
        if not encoded:
            return
        await self._store.delete(encoded)

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


def _digests(data: bytes, algorithms: tuple[str, ...]) -> dict[str, str]:
    return {a: hashlib.new(a, data).hexdigest() for a in {"md5", *algorithms}}
