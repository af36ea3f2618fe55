"""Multipart uploads: parts are blobs named by generated ids; completion joins them into one
object with an S3-style etag (md5 of the parts' md5s, then ``-<part count>``)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from typing import Any, TypeVar

from wranglerpy.bindings.r2 import blobs
from wranglerpy.bindings.r2 import errors as e
from wranglerpy.bindings.r2.backend import ContentWriter, R2Store, UploadNotFound
from wranglerpy.bindings.r2.objects import R2Object, Record
from wranglerpy.jsobject import JSObject

T = TypeVar("T")
# Parts given as bytes this large are written on a thread.
OFFLOAD_BYTES = 1024 * 1024


async def _upload(op: str, call: Awaitable[T]) -> T:
    """``call``, with a missing upload reported as R2 reports it."""
    try:
        return await call
    except UploadNotFound:
        raise e.fail(op, e.NO_SUCH_UPLOAD) from None


class Uploads:
    """Multipart uploads of one bucket: R2's rules here, the parts in the bucket's store."""

    def __init__(self, store: R2Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def create(self, key: bytes, http: dict[str, Any], custom: dict[str, str]) -> str:
        return await self._store.create_upload(key, http, custom, int(self._clock() * 1000))

    async def upload_part(self, key: bytes, upload_id: str, number: Any, value: Any) -> JSObject:
        op = "uploadPart"
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 10_000:
            raise e.fail(op, e.INVALID_ARGUMENT, "(partNumber must be an integer 1..10000)")
        await _upload(op, self._store.check_upload(key, upload_id))
        writer = await self._write(value)
        etag = writer.digests()["md5"]
        await _upload(op, self._store.put_part(key, upload_id, number, writer))
        return JSObject(partNumber=number, etag=etag)

    async def _write(self, value: Any) -> ContentWriter:
        if isinstance(value, str):
            value = value.encode("utf-8", "surrogatepass")
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            if len(data) > e.MAX_PART_SIZE:
                raise e.fail("uploadPart", e.ENTITY_TOO_LARGE)
            writer = self._store.writer()
            try:
                if len(data) >= OFFLOAD_BYTES:
                    await asyncio.to_thread(writer.write, data)
                else:
                    writer.write(data)
            except BaseException:
                writer.discard()
                raise
            return writer
        if not isinstance(value, AsyncIterable):
            raise e.fail(
                "uploadPart",
                e.INVALID_ARGUMENT,
                f"(value must be str, bytes or an async iterable of bytes; got {type(value).__name__})",
            )
        writer = self._store.writer()
        try:
            async for chunk in value:
                writer.write(bytes(chunk))
                if writer.size > e.MAX_PART_SIZE:
                    raise e.fail("uploadPart", e.ENTITY_TOO_LARGE)
        except BaseException:
            writer.discard()
            raise
        return writer

    async def abort(self, key: bytes, upload_id: str) -> None:
        await _upload("abort", self._store.abort(key, upload_id))

    async def complete(self, key: bytes, upload_id: str, parts: Any) -> R2Object:
        op = "complete"
        wanted = _parse_parts(parts)
        have = await _upload(op, self._store.parts(key, upload_id))
        chosen = []
        for number, etag in wanted:
            part = have.get(number)
            if part is None or part[1] != etag:
                raise e.fail(op, e.INVALID_PART, f"(part {number})")
            chosen.append((number, *part))
        _check_sizes(chosen)
        md5s = b"".join(bytes.fromhex(p[2]) for p in chosen)
        record = Record(
            key=key.decode("utf-8", "surrogatepass"),
            version=blobs.new_id(),
            size=sum(p[1] for p in chosen),
            etag=f"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}",
            uploaded=int(self._clock() * 1000),
        )
        stored = await _upload(
            op, self._store.complete(key, upload_id, [p[0] for p in chosen], record)
        )
        return R2Object(stored)


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
