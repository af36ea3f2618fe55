"""Cloudflare R2, locally: ``create(config, persist_dir)`` gives the object behind ``env.<R2>``.

State: by default ``<persist_dir>/r2/<bucket_name>/`` holds ``meta.sqlite`` (object rows, WAL
mode; small objects' content too) and ``blobs/`` (larger contents and multipart parts, in files
named by generated ids, so no key can name a path). Every worker and the CLI naming the same
bucket share it. With an R2 backend (``--r2-backend`` / ``WRANGLERPY_R2_BACKEND``, see
:mod:`wranglerpy.state`) an S3 server that every node shares.
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
    "open_bucket",
]


def bucket_path(persist_dir: Path, bucket_name: str) -> Path:
    """The folder of ``bucket_name`` under ``persist_dir``."""
    return state_dir(persist_dir, "r2", bucket_name)


def open_bucket(bucket_name: str, persist_dir: Path, backend: str | None = None) -> R2BucketBinding:
    """The binding of bucket ``bucket_name`` on ``backend`` (an ``s3://`` URL), else on the
    backend ``WRANGLERPY_R2_BACKEND`` names, else on the local store."""
    from wranglerpy.state.backends import StateBackends

    store = StateBackends.resolve(r2=backend).r2_store(bucket_name, persist_dir)
    return R2BucketBinding(store, bucket_name=bucket_name)


def create(config: R2Bucket, persist_dir: Path) -> R2BucketBinding:
    return open_bucket(config.bucket_name, persist_dir)
