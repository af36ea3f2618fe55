"""Cloudflare R2, locally: ``create(config, persist_dir)`` gives the object behind ``env.<R2>``.

State: ``<persist_dir>/r2/<bucket_name>/`` holds ``meta.sqlite`` (object rows, WAL mode; small
objects' content too) and ``blobs/`` (larger contents and multipart parts, in files named by
generated ids, so no key can name a path). Every worker and the CLI naming the same bucket
share it.
"""

from __future__ import annotations

from pathlib import Path

from wranglerpy.bindings._sqlite import state_dir
from wranglerpy.bindings.r2.binding import R2BucketBinding
from wranglerpy.bindings.r2.errors import R2Error
from wranglerpy.bindings.r2.multipart import R2MultipartUpload
from wranglerpy.bindings.r2.objects import R2Checksums, R2Object, R2ObjectBody
from wranglerpy.config.schema import R2Bucket

__all__ = [
    "R2BucketBinding",
    "R2Checksums",
    "R2Error",
    "R2MultipartUpload",
    "R2Object",
    "R2ObjectBody",
    "bucket_path",
    "create",
]


def bucket_path(persist_dir: Path, bucket_name: str) -> Path:
    """The folder of ``bucket_name`` under ``persist_dir``."""
    return state_dir(persist_dir, "r2", bucket_name)


def create(config: R2Bucket, persist_dir: Path) -> R2BucketBinding:
    return R2BucketBinding(
        bucket_path(persist_dir, config.bucket_name), bucket_name=config.bucket_name
    )
