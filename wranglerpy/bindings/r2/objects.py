"""What R2 calls return: ``R2Object`` (metadata) and ``R2ObjectBody`` (metadata + body)."""

from __future__ import annotations

import datetime as dt
import json
import weakref
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass, field
from typing import IO, Any

from wranglerpy.bindings.r2.meta import HTTP_FIELDS, from_millis
from wranglerpy.bindings.streams import ByteStream
from wranglerpy.errors import BindingError
from wranglerpy.jsobject import JSObject

CHUNK = 64 * 1024
HASHES = ("md5", "sha1", "sha256", "sha384", "sha512")


@dataclass
class Record:
    """One stored object, as a row of the bucket's SQLite table describes it."""

    key: str
    version: str
    size: int
    etag: str
    uploaded: int  # epoch ms
    http_metadata: dict[str, Any] = field(default_factory=dict)
    custom_metadata: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm -> hex
    data: bytes | None = None  # small objects live in the row itself
    blob: str | None = None  # larger ones in blobs/<blob>, named by a generated id


class R2Checksums:
    """The object's checksums as hex strings (None when R2 would not have one)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.md5: str | None = values.get("md5")
        self.sha1: str | None = values.get("sha1")
        self.sha256: str | None = values.get("sha256")
        self.sha384: str | None = values.get("sha384")
        self.sha512: str | None = values.get("sha512")

    def toJSON(self) -> JSObject:  # noqa: N802 - the JS name
        return JSObject({h: getattr(self, h) for h in HASHES if getattr(self, h) is not None})

    def __repr__(self) -> str:
        return f"R2Checksums({dict(self.toJSON())})"


class R2Object:
    """An object's metadata. Attributes and ``obj["key"]`` both work."""

    def __init__(
        self,
        record: Record,
        range: tuple[int, int] | None = None,  # noqa: A002 - R2's name
        *,
        include: tuple[str, ...] = ("httpMetadata", "customMetadata"),
    ) -> None:
        self.key = record.key
        self.version = record.version
        self.size = record.size
        self.etag = record.etag
        self.httpEtag = f'"{record.etag}"'
        self.uploaded: dt.datetime = from_millis(record.uploaded)
        http = dict(record.http_metadata) if "httpMetadata" in include else {}
        if "cacheExpiry" in http:
            http["cacheExpiry"] = from_millis(http["cacheExpiry"])
        self.httpMetadata = JSObject(http)
        custom = record.custom_metadata if "customMetadata" in include else {}
        self.customMetadata = JSObject(custom)
        self.checksums = R2Checksums(record.checksums)
        self.storageClass = "Standard"
        self.range = None if range is None else JSObject(offset=range[0], length=range[1])

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

    def writeHttpMetadata(self, headers: Any) -> None:  # noqa: N802 - the JS name
        """Set the object's httpMetadata as HTTP headers on ``headers`` (Headers or a dict)."""
        for name, header in HTTP_FIELDS.items():
            value = self.httpMetadata.get(name)
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                from email.utils import format_datetime

                value = format_datetime(value, usegmt=True)
            if hasattr(headers, "set"):
                headers.set(header, value)
            elif isinstance(headers, MutableMapping):
                headers[header] = value
            else:
                raise TypeError("writeHttpMetadata() needs a Headers object or a dict")

    def __repr__(self) -> str:
        return f"R2Object(key={self.key!r}, size={self.size}, etag={self.etag!r})"


class R2BodyUsedError(BindingError, TypeError):
    """A body was read twice, as ``TypeError: Body has already been used`` in JS."""


class R2ObjectBody(R2Object):
    """An object with its (possibly ranged) content, readable once."""

    def __init__(
        self,
        record: Record,
        range: tuple[int, int] | None,  # noqa: A002 - R2's name
        content: bytes | IO[bytes] | AsyncIterator[bytes],
    ) -> None:
        super().__init__(record, range)
        self._content = content
        self._remaining = range[1] if range else record.size
        if not isinstance(content, bytes) and not isinstance(content, AsyncIterator):
            # The open file keeps the blob readable even if it is replaced meanwhile.
            self._closer = weakref.finalize(self, content.close)
        self._stream: ByteStream | None = None
        self.bodyUsed = False

    @property
    def body(self) -> ByteStream:
        if self._stream is None:
            self._stream = ByteStream(self._chunks())
        return self._stream

    async def _chunks(self) -> AsyncIterator[bytes]:
        self.bodyUsed = True
        if isinstance(self._content, bytes):
            for i in range(0, len(self._content), CHUNK):
                yield self._content[i : i + CHUNK]
            return
        if isinstance(self._content, AsyncIterator):  # read from a server as it comes
            async for chunk in self._content:
                yield chunk
            return
        try:
            while self._remaining > 0:
                chunk = self._content.read(min(CHUNK * 4, self._remaining))
                if not chunk:
                    break
                self._remaining -= len(chunk)
                yield chunk
        finally:
            self._closer()

    async def arrayBuffer(self) -> bytes:  # noqa: N802 - the JS name
        if self.bodyUsed or (self._stream is not None and self._stream.locked):
            raise R2BodyUsedError(
                "Body has already been used. It can only be used once. "
                "Use tee() first if you need to read it twice."
            )
        self.bodyUsed = True
        if isinstance(self._content, bytes):
            return self._content
        if isinstance(self._content, AsyncIterator):
            return b"".join([chunk async for chunk in self._content])
        try:
            return self._content.read(self._remaining)
        finally:
            self._closer()

    async def bytes(self) -> bytes:
        return await self.arrayBuffer()

    async def text(self) -> str:
        return (await self.arrayBuffer()).decode("utf-8", "replace")

    async def json(self) -> Any:
        from wranglerpy.jsobject import as_js_object

        return as_js_object(json.loads(await self.text()))
