"""Where R2 keeps its state on disk: per-bucket folders shared by bindings, names that
cannot escape them, and orphan blob files swept after a crash."""

import os
from pathlib import Path

from tests.bindings.conftest import NOW
from tests.bindings.r2_data import BIG
from wranglerpy.bindings import r2
from wranglerpy.bindings.r2 import R2BucketBinding
from wranglerpy.config.schema import R2Bucket


async def test_create_lays_out_state_by_bucket_and_shares_it(tmp_path: Path) -> None:
    a = r2.create(R2Bucket(binding="A", bucket_name="photos"), tmp_path)
    b = r2.create(R2Bucket(binding="B", bucket_name="photos"), tmp_path)
    other = r2.create(R2Bucket(binding="C", bucket_name="other"), tmp_path)
    await a.put("k", BIG)
    assert await (await b.get("k")).arrayBuffer() == BIG
    assert await other.get("k") is None
    assert (tmp_path / "r2" / "photos" / "meta.sqlite").is_file()
    for binding in (a, b, other):
        binding.close()


async def test_any_key_stays_inside_the_bucket(tmp_path: Path) -> None:
    persist = tmp_path / "state"
    bucket = r2.create(R2Bucket(binding="B", bucket_name="b"), persist)
    evil = ["../../etc/passwd", "../../../outside", "/abs/path", "..", ".", "a/../../../x", "\x00"]
    for key in evil:
        await bucket.put(key, BIG if key == "/abs/path" else f"data for {key}")
        upload = await bucket.createMultipartUpload(key)
        await upload.uploadPart(1, "part")
    for key in evil:
        got = await bucket.get(key)
        expected = BIG if key == "/abs/path" else f"data for {key}".encode()
        assert await got.arrayBuffer() == expected
    bucket.close()
    inside = persist / "r2" / "b"
    every_file = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert every_file and all(p.is_relative_to(inside) for p in every_file)
    assert not (tmp_path / "etc").exists() and not (tmp_path / "outside").exists()
    names = {p.name for p in (inside / "blobs").iterdir()}
    assert all(len(n) == 32 and n.isalnum() for n in names)  # generated ids only


async def test_odd_bucket_names_stay_inside_persist_dir(tmp_path: Path) -> None:
    persist = tmp_path / "state"
    bucket = r2.create(R2Bucket(binding="B", bucket_name="../../escape"), persist)
    await bucket.put("k", BIG)
    bucket.close()
    assert all(p.is_relative_to(persist / "r2") for p in tmp_path.rglob("*") if p.is_file())


async def test_orphan_blobs_from_a_crash_are_swept(tmp_path: Path) -> None:
    folder = tmp_path / "bucket"
    bucket = R2BucketBinding(folder)
    await bucket.put("k", BIG)
    bucket.close()
    blobs = folder / "blobs"
    orphan, fresh = blobs / ".tmp-deadbeef", blobs / ("f" * 32)
    orphan.write_bytes(b"half")
    fresh.write_bytes(b"in flight elsewhere")
    os.utime(orphan, (NOW - 7200, 1))
    again = R2BucketBinding(folder)
    assert not orphan.exists() and fresh.exists()
    assert await (await again.get("k")).arrayBuffer() == BIG
    again.close()


async def test_bucket_folders_and_object_files_are_private(tmp_path: Path) -> None:
    """README, "Bindings: KV and D1": local state is private (folders 0700, files 0600)."""
    persist = tmp_path / "state"
    bucket = r2.create(R2Bucket(binding="B", bucket_name="photos"), persist)
    await bucket.put("big", BIG)  # large enough for a blob file of its own
    upload = await bucket.createMultipartUpload("parts")
    await upload.complete([await upload.uploadPart(1, BIG)])
    bucket.close()
    blobs = [p for p in (persist / "r2" / "photos" / "blobs").iterdir()]
    assert blobs
    for path in [persist, persist / "r2", *(persist / "r2").rglob("*")]:
        want = 0o700 if path.is_dir() else 0o600
        assert path.stat().st_mode & 0o777 == want, path
