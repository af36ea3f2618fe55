"""R2 objects: put, get, head and delete, bodies, key and size limits, and when a value
is kept inline or as a blob file."""

import datetime as dt
import hashlib

import pytest

from tests.bindings.conftest import NOW, chunks
from tests.bindings.r2_data import BIG, blob_files, loose_content
from wranglerpy.bindings.r2 import R2BucketBinding, R2Error, R2Object, R2ObjectBody
from wranglerpy.bindings.r2.local import INLINE_MAX
from wranglerpy.errors import BindingError


async def test_put_returns_object_metadata(bucket: R2BucketBinding) -> None:
    obj = await bucket.put("hello.txt", "hello", {"customMetadata": {"a": "1"}})
    assert isinstance(obj, R2Object)
    md5 = hashlib.md5(b"hello").hexdigest()
    assert (obj.key, obj.size, obj.etag, obj.httpEtag) == ("hello.txt", 5, md5, f'"{md5}"')
    assert obj["etag"] == md5 and obj.checksums.md5 == md5 and obj.checksums.sha256 is None
    assert obj.uploaded == dt.datetime.fromtimestamp(NOW, dt.timezone.utc)
    assert obj.customMetadata == {"a": "1"} and obj.customMetadata.a == "1"
    assert len(obj.version) == 32 and obj.range is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("text", b"text"),
        (b"\x00\xff", b"\x00\xff"),
        (None, b""),
        (lambda: chunks(b"ab", b"cd"), b"abcd"),  # a fresh stream for each backend
        (BIG, BIG),
        (lambda: chunks(BIG[:1000], BIG[1000:]), BIG),
    ],
)
async def test_put_values_round_trip(bucket: R2BucketBinding, value, expected: bytes) -> None:
    await bucket.put("k", value() if callable(value) else value)
    got = await bucket.get("k")
    assert isinstance(got, R2ObjectBody) and got.size == len(expected)
    assert await got.arrayBuffer() == expected
    assert got.etag == hashlib.md5(expected).hexdigest()


async def test_body_reads(bucket: R2BucketBinding) -> None:
    await bucket.put("j", '{"x": [1, 2]}')
    assert (await (await bucket.get("j")).json()).x == [1, 2]
    assert await (await bucket.get("j")).text() == '{"x": [1, 2]}'
    body = await bucket.get("j")
    assert body.bodyUsed is False
    assert b"".join([c async for c in body.body]) == b'{"x": [1, 2]}'
    assert body.bodyUsed is True
    with pytest.raises(TypeError, match="already been used"):
        await body.text()
    await bucket.put("big", BIG)
    streamed = await bucket.get("big")
    assert await streamed.body.read_all() == BIG


async def test_get_and_head_of_missing_keys(bucket: R2BucketBinding) -> None:
    assert await bucket.get("nope") is None
    assert await bucket.head("nope") is None


async def test_head_has_no_body(bucket: R2BucketBinding) -> None:
    await bucket.put("k", "v")
    head = await bucket.head("k")
    assert type(head) is R2Object and head.size == 1


async def test_put_rejects_other_values_and_unknown_options(bucket: R2BucketBinding) -> None:
    with pytest.raises(R2Error, match=r"^put: Invalid Argument .*int"):
        await bucket.put("k", 12)
    with pytest.raises(R2Error, match="unknown options"):
        await bucket.put("k", "v", {"metadata": {}})


async def test_the_longest_key_is_1024_bytes(local_bucket: R2BucketBinding) -> None:
    await local_bucket.put("é" * 512, "ok")  # 1024 bytes
    assert await (await local_bucket.get("é" * 512)).text() == "ok"


async def test_key_limits(bucket: R2BucketBinding) -> None:
    await bucket.put("é" * 250, "ok")  # 500 bytes: the S3 backend's longest (hex-named)
    with pytest.raises(R2Error, match=r"put: The specified object name is not valid\..*\(10020\)"):
        await bucket.put("k" * 1025, "x")
    for call in (bucket.get(""), bucket.head(3), bucket.delete("x" * 2000)):
        with pytest.raises(BindingError, match="10020"):
            await call


async def test_object_and_part_size_limits(
    bucket: R2BucketBinding, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wranglerpy.bindings.r2 import errors

    monkeypatch.setattr(errors, "MAX_PUT_SIZE", 100)
    monkeypatch.setattr(errors, "MAX_PART_SIZE", 100)
    await bucket.put("ok", b"x" * 100)
    too_big = r"put: Your proposed upload exceeds the maximum allowed object size\. \(100100\)"
    with pytest.raises(R2Error, match=too_big):
        await bucket.put("big", b"x" * 101)
    with pytest.raises(R2Error, match=too_big):
        await bucket.put("big", chunks(b"x" * 60, b"x" * 60))
    upload = await bucket.createMultipartUpload("m")
    with pytest.raises(R2Error, match=r"uploadPart: .*\(100100\)"):
        await upload.uploadPart(1, chunks(b"x" * 101))
    assert await bucket.head("big") is None and loose_content(bucket) == []


async def test_small_streams_are_stored_inline_and_large_ones_as_blobs(
    local_bucket: R2BucketBinding,
) -> None:
    bucket = local_bucket
    await bucket.put("small", chunks(b"a" * INLINE_MAX))
    assert blob_files(bucket) == []
    await bucket.put("large", chunks(b"a" * INLINE_MAX, b"b"))
    assert len(blob_files(bucket)) == 1
    assert await (await bucket.get("large")).arrayBuffer() == b"a" * INLINE_MAX + b"b"
    assert (await bucket.head("small")).etag == hashlib.md5(b"a" * INLINE_MAX).hexdigest()


async def test_overwrite_and_delete_free_blob_files(local_bucket: R2BucketBinding) -> None:
    bucket = local_bucket
    await bucket.put("k", BIG)
    first = blob_files(bucket)
    assert len(first) == 1
    await bucket.put("k", BIG[::-1])
    second = blob_files(bucket)
    assert len(second) == 1 and second != first
    await bucket.put("k", "small now")
    assert blob_files(bucket) == []
    await bucket.put("k", BIG)
    await bucket.delete("k")
    assert blob_files(bucket) == [] and await bucket.get("k") is None


async def test_delete_one_or_many(bucket: R2BucketBinding) -> None:
    for key in ("a", "b", "c"):
        await bucket.put(key, key)
    await bucket.delete("a")
    await bucket.delete(["b", "missing"])
    assert [o.key for o in (await bucket.list()).objects] == ["c"]
    with pytest.raises(R2Error, match="1000 keys"):
        await bucket.delete([str(i) for i in range(1001)])
