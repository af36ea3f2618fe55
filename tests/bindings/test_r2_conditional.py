"""R2 conditional get and put (``onlyIf``)."""

import datetime as dt

from tests.bindings.conftest import NOW, Clock
from tests.bindings.r2_data import BIG, loose_content
from wranglerpy.bindings.r2 import R2BucketBinding, R2Object, R2ObjectBody
from wranglerpy.runtime.headers import Headers


async def test_get_only_if(bucket: R2BucketBinding, clock: Clock) -> None:
    obj = await bucket.put("k", "v")
    before = dt.datetime.fromtimestamp(NOW - 10, dt.timezone.utc)
    after = dt.datetime.fromtimestamp(NOW + 10, dt.timezone.utc)
    passing = [
        {"etagMatches": obj.etag},
        {"etagMatches": [obj.httpEtag, "other"]},
        {"etagMatches": "*"},
        {"etagDoesNotMatch": "other"},
        {"uploadedBefore": after},
        {"uploadedAfter": before},
        {"etagMatches": obj.etag, "uploadedBefore": before},  # the etag wins (RFC 9110)
    ]
    failing = [
        {"etagMatches": "other"},
        {"etagDoesNotMatch": obj.etag},
        {"etagDoesNotMatch": "*"},
        {"uploadedBefore": before},
        {"uploadedAfter": after},
    ]
    for cond in passing:
        got = await bucket.get("k", onlyIf=cond)
        assert isinstance(got, R2ObjectBody), cond
    for cond in failing:
        got = await bucket.get("k", onlyIf=cond)
        assert type(got) is R2Object and got.etag == obj.etag, cond
    headers = Headers({"if-none-match": obj.httpEtag})
    assert type(await bucket.get("k", onlyIf=headers)) is R2Object


async def test_put_only_if(bucket: R2BucketBinding) -> None:
    assert await bucket.put("k", "v1", onlyIf={"etagMatches": "x"}) is None
    assert await bucket.head("k") is None
    first = await bucket.put("k", "v1", onlyIf={"etagDoesNotMatch": "*"})  # create-only
    assert first is not None
    assert await bucket.put("k", "v2", onlyIf={"etagDoesNotMatch": "*"}) is None
    assert await bucket.put("k", "v2", onlyIf={"etagMatches": "stale"}) is None
    assert await bucket.put("k", BIG, onlyIf={"etagMatches": first.etag}) is not None
    assert await bucket.put("k", BIG[:-1], onlyIf={"etagMatches": first.etag}) is None
    assert (await bucket.head("k")).size == len(BIG)
    assert loose_content(bucket) == []  # the refused big put removed its content
