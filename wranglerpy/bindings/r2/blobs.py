"""Object content on disk: ``blobs/<generated id>``, never a path built from the user's key.

A blob is written to ``blobs/.tmp-<id>``, renamed into place, and only then named by a committed
SQLite row; a process killed at any point leaves at worst an unreferenced file (swept later),
never a visible half object. There is no fsync per object: like the SQLite stores
(synchronous=NORMAL), local state guards against a killed process, not against power loss, and
the fsync was a third of a 1 MiB put.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from wranglerpy.private_paths import FILE_MODE, private_dir

TMP_PREFIX = ".tmp-"
# Unreferenced blobs younger than this may belong to a write still in flight elsewhere.
SWEEP_AGE_S = 3600.0


def new_id() -> str:
    return uuid.uuid4().hex


class BlobWriter:
    """Streams content into a new blob while hashing it; ``finish()`` makes it durable."""

    def __init__(
        self, folder: Path, algorithms: Iterable[str] = (), *, hashing: bool = True
    ) -> None:
        private_dir(folder)
        self.folder = folder
        self.id = new_id()
        self.size = 0
        # hashing=False: the caller already has the digests (content it got as bytes).
        names = {"md5", *algorithms} if hashing else set()
        self.hashes = {name: hashlib.new(name) for name in names}
        self._tmp = folder / f"{TMP_PREFIX}{self.id}"
        # 0600 like every state file: objects are the user's data (README, "Bindings: KV and D1").
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        self._file: IO[bytes] | None = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        self._file.write(chunk)
        self.size += len(chunk)
        for h in self.hashes.values():
            h.update(chunk)

    def finish(self) -> str:
        """Rename into place; the blob id."""
        assert self._file is not None
        self._file.close()
        self._file = None
        os.replace(self._tmp, self.folder / self.id)
        return self.id

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._tmp.unlink(missing_ok=True)

    def digests(self) -> dict[str, str]:
        return {name: h.hexdigest() for name, h in self.hashes.items()}


def write_blob(
    folder: Path, data: bytes, algorithms: Iterable[str] = (), *, hashing: bool = True
) -> BlobWriter:
    writer = BlobWriter(folder, algorithms, hashing=hashing)
    try:
        writer.write(data)
        writer.finish()
    except BaseException:
        writer.discard()
        raise
    return writer


def concatenate(folder: Path, blob_ids: list[str]) -> str:
    """A new blob holding the given blobs one after another (multipart completion)."""
    writer = BlobWriter(folder)
    try:
        for blob in blob_ids:
            with open(folder / blob, "rb") as src:
                while chunk := src.read(1024 * 1024):
                    writer.write(chunk)
        return writer.finish()
    except BaseException:
        writer.discard()
        raise


def remove(folder: Path, blob_ids: Iterable[str | None]) -> None:
    for blob in blob_ids:
        if blob:
            (folder / blob).unlink(missing_ok=True)


def sweep(folder: Path, referenced: set[str], now: float | None = None) -> int:
    """Delete old temp files and old blobs no row names (left by a killed process)."""
    if not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - SWEEP_AGE_S
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if name in referenced:
                continue
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
    return removed
