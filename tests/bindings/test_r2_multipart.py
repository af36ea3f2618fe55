"""R2 multipart uploads: parts, completion rules, abort and unknown uploads."""

import hashlib

import pytest

from tests.bindings.conftest import chunks
from tests.bindings.r2_data import BIG, loose_content
from wranglerpy.bindings.r2 import R2BucketBinding, R2Error

MIB5 = 5 * 1024 * 1024


async def test_multipart_round_trip(bucket: R2BucketBinding) -> None:
    upload = await bucket.createMultipartUpload(
        "big", {"httpMetadata": {"contentType": "video/mp4"}, "customMetadata": {"m": "1"}}
    )
    assert upload.key == "big" and upload.uploadId
    one, two, three = b"a" * MIB5, b"b" * MIB5, b"tail"
    p2 = await upload.uploadPart(2, two)
    p1 = await upload.uploadPart(1, chunks(one[:100], one[100:]))
    resumed = bucket.resumeMultipartUpload("big", upload.uploadId)
    p3 = await resumed.uploadPart(3, three)
    assert p1 == {"partNumber": 1, "etag": hashlib.md5(one).hexdigest()}
    obj = await upload.complete([p3, p1, p2])  # joined in part-number order
    md5s = b"".join(hashlib.md5(p).digest() for p in (one, two, three))
    assert obj.etag == f"{hashlib.md5(md5s).hexdigest()}-3"
    assert obj.size == 2 * MIB5 + 4 and obj.customMetadata == {"m": "1"}
    got = await bucket.get("big", range={"suffix": 6})
    assert await got.arrayBuffer() == b"bbtail"
    assert (await bucket.head("big")).httpMetadata.contentType == "video/mp4"
    assert loose_content(bucket) == []  # the parts are gone
    with pytest.raises(R2Error, match=r"multipart upload does not exist\. \(10024\)"):
        await upload.uploadPart(4, "x")


async def test_multipart_rules(bucket: R2BucketBinding) -> None:
    upload = await bucket.createMultipartUpload("m")
    p1 = await upload.uploadPart(1, "small")
    p2 = await upload.uploadPart(2, "last")
    with pytest.raises(R2Error, match=r"smaller than the minimum allowed object size.*\(10011\)"):
        await upload.complete([p1, p2])
    with pytest.raises(R2Error, match=r"could not be found.*\(10025\)"):
        await upload.complete([{"partNumber": 1, "etag": "wrong"}])
    with pytest.raises(R2Error, match="listed twice"):
        await upload.complete([p1, p1])
    with pytest.raises(R2Error, match=r"\(10048\)"):
        await upload.complete([])
    for number in (0, 10001, "1"):
        with pytest.raises(R2Error, match="partNumber must be an integer 1..10000"):
            await upload.uploadPart(number, "x")
    single = await upload.complete([p1])  # one part: the last may be small
    assert single.size == 5 and single.etag.endswith("-1")


async def test_multipart_uneven_parts_fail_on_complete(bucket: R2BucketBinding) -> None:
    upload = await bucket.createMultipartUpload("m")
    parts = [
        await upload.uploadPart(1, b"a" * MIB5),
        await upload.uploadPart(2, b"b" * (MIB5 + 1)),
        await upload.uploadPart(3, b"c"),
    ]
    with pytest.raises(R2Error, match="same size"):
        await upload.complete(parts)


async def test_multipart_abort_and_unknown_uploads(bucket: R2BucketBinding) -> None:
    upload = await bucket.createMultipartUpload("m")
    await upload.uploadPart(1, BIG)
    await upload.abort()
    assert loose_content(bucket) == []
    with pytest.raises(R2Error, match="10024"):
        await upload.abort()
    ghost = bucket.resumeMultipartUpload("m", "no-such-id")
    with pytest.raises(R2Error, match="10024"):
        await ghost.uploadPart(1, "x")
    other_key = bucket.resumeMultipartUpload(
        "other", (await bucket.createMultipartUpload("m")).uploadId
    )
    with pytest.raises(R2Error, match="10024"):
        await other_key.uploadPart(1, "x")
    assert await bucket.head("m") is None
