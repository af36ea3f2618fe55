"""Where an R2 bucket keeps its objects: the small interface the binding calls.

The binding (``binding.py``, ``multipart.py``) holds every R2 rule: key and option
validation, checksums, etags, ``onlyIf``, ranges, list pages and delimiters, part rules.
A store only keeps records and content: the local one (``local.py``: SQLite rows and blob
files) and the S3 one (:mod:`wranglerpy.state.s3_r2`). Keys arrive validated and UTF-8
encoded; records arrive complete (size, etag, checksums, version, upload time).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import IO, Protocol

from wranglerpy.bindings.r2.meta import Conditions
from wranglerpy.bindings.r2.objects import Record

# A body: bytes, an open file positioned at the range, or chunks read from a server.
Content = bytes | IO[bytes] | AsyncIterator[bytes]


class UploadNotFound(Exception):
    """No multipart upload with that id for that key (the binding reports NoSuchUpload)."""


class ContentWriter(Protocol):
    """Content streamed in by the binding, hashed as it arrives."""

    size: int

    def write(self, chunk: bytes) -> None: ...

    def digests(self) -> dict[str, str]:
        """Hex digests: md5 always, plus the algorithms the writer was made with."""

    def discard(self) -> None:
        """Drop the content (the put failed or was refused)."""


class R2Store(Protocol):
    """The storage of one R2 bucket."""

    def writer(self, algorithms: Iterable[str] = ()) -> ContentWriter:
        """A writer for a large object's or a part's content."""

    async def read(self, key: bytes) -> Record | None:
        """The object's record, or None."""

    async def content(self, record: Record, offset: int, length: int) -> Content | None:
        """``length`` bytes from ``offset`` of the object ``record`` describes; None when the
        object was replaced since ``record`` was read (the binding reads again)."""

    async def put(
        self, key: bytes, record: Record, content: bytes | ContentWriter, cond: Conditions | None
    ) -> bool:
        """Store the object unless ``cond`` fails against the current one (checked together
        with the write where the server allows it); False when it failed."""

    async def delete(self, keys: list[bytes]) -> None:
        """Remove the objects; missing keys are not an error."""

    async def scan(self, prefix: bytes, after: bytes | None, limit: int) -> list[bytes]:
        """Up to ``limit`` keys starting with ``prefix`` and above ``after``, in byte order."""

    async def records(self, keys: list[bytes]) -> list[Record | None]:
        """The records (no content) of ``keys``, in that order; None for a key deleted since
        it was listed."""

    async def create_upload(
        self, key: bytes, http: dict[str, object], custom: dict[str, str], created: int
    ) -> str:
        """A new multipart upload's id."""

    async def check_upload(self, key: bytes, upload_id: str) -> None:
        """Raise :class:`UploadNotFound` unless the upload exists for ``key``."""

    async def put_part(self, key: bytes, upload_id: str, number: int, part: ContentWriter) -> None:
        """Keep ``part`` as part ``number`` (replacing one with that number)."""

    async def parts(self, key: bytes, upload_id: str) -> dict[int, tuple[int, str]]:
        """``{part number: (size, md5 hex)}`` of the upload."""

    async def complete(
        self, key: bytes, upload_id: str, numbers: list[int], record: Record
    ) -> Record:
        """Join the parts ``numbers`` (in that order) into the object ``record`` describes,
        with the upload's http/custom metadata, and end the upload; the stored record."""

    async def abort(self, key: bytes, upload_id: str) -> None:
        """End the upload and drop its parts."""

    def close(self) -> None: ...
