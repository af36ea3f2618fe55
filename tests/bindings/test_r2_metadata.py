"""R2 object metadata: HTTP and custom metadata, checksums, and the JSON form of results."""

import datetime as dt
import hashlib
import json

import pytest

from tests.bindings.r2_data import BIG, loose_content
from wranglerpy.bindings import r2
from wranglerpy.bindings.r2 import R2BucketBinding, R2Error, R2Object
from wranglerpy.runtime.headers import Headers


async def test_http_metadata_from_dict_or_headers(bucket: R2BucketBinding) -> None:
    expiry = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    await bucket.put("a", "x", httpMetadata={"contentType": "text/plain", "cacheExpiry": expiry})
    obj = await bucket.head("a")
    assert obj.httpMetadata == {"contentType": "text/plain", "cacheExpiry": expiry}
    await bucket.put("b", "x", httpMetadata=Headers({"Content-Type": "image/png"}))
    assert (await bucket.head("b")).httpMetadata.contentType == "image/png"
    headers = Headers()
    obj.writeHttpMetadata(headers)
    assert headers.get("content-type") == "text/plain"
    assert headers.get("expires") == "Tue, 01 Jan 2030 00:00:00 GMT"
    plain: dict[str, str] = {}
    obj.writeHttpMetadata(plain)
    assert plain["content-type"] == "text/plain"
    with pytest.raises(R2Error, match="unknown httpMetadata"):
        await bucket.put("c", "x", httpMetadata={"type": "x"})


async def test_custom_metadata_limit(bucket: R2BucketBinding) -> None:
    await bucket.put("ok", "x", customMetadata={"k": "v" * 2047})
    with pytest.raises(R2Error, match=r"exceed the maximum allowed metadata size.*\(10012\)"):
        await bucket.put("big", "x", customMetadata={"k": "v" * 2048})
    with pytest.raises(R2Error, match="strings to strings"):
        await bucket.put("bad", "x", customMetadata={"k": 1})


async def test_checksums_are_verified(bucket: R2BucketBinding) -> None:
    md5 = hashlib.md5(b"data").hexdigest()
    sha = hashlib.sha256(b"data").digest()
    assert (await bucket.put("a", "data", md5=md5)).etag == md5
    obj = await bucket.put("b", "data", sha256=sha)
    assert obj.checksums.sha256 == sha.hex() and obj.checksums.toJSON()["md5"] == md5
    with pytest.raises(R2Error, match=r"The MD5 checksum you specified did not match .*\(10037\)"):
        await bucket.put("c", "data", md5="00" * 16)
    with pytest.raises(R2Error, match="SHA1 checksum"):
        await bucket.put("c", BIG, sha1="00" * 20)
    with pytest.raises(R2Error, match="multiple hashes"):
        await bucket.put("c", "data", md5=md5, sha256=sha)
    assert await bucket.head("c") is None
    assert loose_content(bucket) == []  # the rejected big upload left no file


def test_results_serialise_through_to_json(bucket: R2BucketBinding) -> None:
    obj = R2Object(
        r2.objects.Record(
            key="k", version="v", size=1, etag="e", uploaded=0, checksums={"md5": "e"}
        )
    )
    assert json.dumps(obj.checksums.toJSON()) == '{"md5": "e"}'
