"""Test data and probes shared by the R2 binding tests (``test_r2_*.py``)."""

from wranglerpy.bindings.r2 import R2BucketBinding

BIG = bytes(range(256)) * 8192  # 2 MiB: stored as a blob file, streamed from disk


def blob_files(bucket: R2BucketBinding) -> list[str]:
    """The names of the bucket's blob files: shows what a put, delete or abort left on disk."""
    return sorted(p.name for p in bucket._blobs.iterdir())
