"""Test data and probes shared by the R2 binding tests (``test_r2_*.py``)."""

from wranglerpy.bindings.r2 import R2BucketBinding, store
from wranglerpy.bindings.r2.local import LocalR2Store

BIG = bytes(range(256)) * 8192  # 2 MiB: stored as a blob file, streamed from disk


def blob_files(bucket: R2BucketBinding) -> list[str]:
    """The names of a local bucket's blob files: what a put, delete or abort left on disk."""
    backend = bucket._store
    assert isinstance(backend, LocalR2Store)
    return sorted(p.name for p in backend.blobs.iterdir())


def loose_content(bucket: R2BucketBinding) -> list[str]:
    """Stored content no object or upload holds: what a refused put, a delete or an abort
    must not leave behind. Local: blob files no row names; S3: part objects."""
    backend = bucket._store
    if isinstance(backend, LocalR2Store):
        named = backend.db.call(store.referenced_blobs)
        return sorted(p.name for p in backend.blobs.iterdir() if p.name not in named)
    names: list[str] = backend.stored_names()  # type: ignore[attr-defined]
    return [n for n in names if n.startswith("p/")]
