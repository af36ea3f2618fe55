"""The local buckets as S3 sees them: the folders under ``<persist>/r2/`` (plus the buckets
the configs name, which the R2 binding creates on first use), each opened once through the R2
binding's own store, so the binding and the S3 API read and write the same objects."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.bindings.r2 import R2BucketBinding, bucket_path, store
from wranglerpy.private_paths import private_dir
from wranglerpy.services.s3.errors import S3Error, no_such_bucket

# S3's (and R2's) bucket name rule: 3-63 of lower-case letters, digits, '-' and '.'.
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def check_name(name: str) -> None:
    if not BUCKET_NAME.fullmatch(name) or ".." in name:
        raise S3Error(
            400, "InvalidBucketName", "The specified bucket is not valid.", BucketName=name
        )


class Bucket:
    """One open bucket: the binding (objects, multipart) and a reader of its upload tables."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.folder = folder
        self.binding = R2BucketBinding(folder, bucket_name=name)
        # A second connection for what the binding has no Cloudflare call for (ListParts,
        # ListMultipartUploads); WAL lets it read beside the binding's.
        self.tables = SQLiteStore(folder / "meta.sqlite", store.setup)

    async def parts(self, upload_id: str) -> list[tuple[int, int, str]] | None:
        return await self.tables.run(lambda c: store.list_parts(c, upload_id))

    async def uploads(self, prefix: str) -> list[tuple[str, str, int]]:
        encoded = prefix.encode("utf-8", "surrogatepass")
        return await self.tables.run(lambda c: store.list_uploads(c, encoded))

    def close(self) -> None:
        self.binding.close()
        self.tables.close()


class Buckets:
    """Every bucket under ``persist_dir``; ``configured`` names exist even before first use."""

    def __init__(self, persist_dir: Path, configured: Iterable[str] = ()) -> None:
        self.persist_dir = persist_dir
        self.configured = set(configured)
        self._open: dict[str, Bucket] = {}

    def _root(self) -> Path:
        return self.persist_dir / "r2"

    def names(self) -> list[str]:
        found = set(self.configured)
        root = self._root()
        if root.is_dir():
            found.update(unquote(p.name) for p in root.iterdir() if p.is_dir())
        return sorted(found)

    def created(self, name: str) -> dt.datetime:
        folder = bucket_path(self.persist_dir, name)
        try:
            stamp = folder.stat().st_mtime
        except OSError:
            stamp = dt.datetime.now(dt.timezone.utc).timestamp()
        return dt.datetime.fromtimestamp(stamp, tz=dt.timezone.utc)

    def exists(self, name: str) -> bool:
        return name in self.configured or bucket_path(self.persist_dir, name).is_dir()

    def get(self, name: str) -> Bucket:
        bucket = self._open.get(name)
        if bucket is not None:
            return bucket
        if not name or not self.exists(name):
            raise no_such_bucket(name)
        bucket = Bucket(name, bucket_path(self.persist_dir, name))
        self._open[name] = bucket
        return bucket

    def create(self, name: str) -> None:
        check_name(name)
        if bucket_path(self.persist_dir, name).is_dir():
            raise S3Error(
                409,
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
                BucketName=name,
            )
        private_dir(bucket_path(self.persist_dir, name))
        self.get(name)

    async def delete(self, name: str) -> None:
        bucket = self.get(name)
        listing: Any = await bucket.binding.list(limit=1)
        if listing["objects"] or await bucket.uploads(""):
            raise S3Error(
                409,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty.",
                BucketName=name,
            )
        bucket.close()
        del self._open[name]
        shutil.rmtree(bucket.folder, ignore_errors=True)

    def close(self) -> None:
        for bucket in self._open.values():
            bucket.close()
        self._open.clear()
