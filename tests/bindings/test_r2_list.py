"""R2 listing: order, prefixes, delimiters, include, cursors and limits."""

import pytest

from wranglerpy.bindings.r2 import R2BucketBinding, R2Error


async def test_list_order_prefix_and_include(bucket: R2BucketBinding) -> None:
    for key in ("b", "a/2", "a/1", "ä", "a/sub/x", "c"):
        await bucket.put(key, key, customMetadata={"k": key}, httpMetadata={"contentType": "t"})
    listed = await bucket.list()
    assert [o.key for o in listed.objects] == ["a/1", "a/2", "a/sub/x", "b", "c", "ä"]
    assert listed.truncated is False and "cursor" not in listed
    assert listed.delimitedPrefixes == [] and listed.objects[0].customMetadata == {}
    full = await bucket.list(prefix="a/", include=["customMetadata", "httpMetadata"])
    assert [o.customMetadata.k for o in full.objects] == ["a/1", "a/2", "a/sub/x"]
    assert full.objects[0].httpMetadata == {"contentType": "t"}
    assert [o.key for o in (await bucket.list(startAfter="a/2")).objects][0] == "a/sub/x"


async def test_list_with_delimiter(bucket: R2BucketBinding) -> None:
    for key in ("a/1", "a/2", "a/sub/x", "a/sub/y", "a/tub/z", "b", "c/d"):
        await bucket.put(key, "x")
    top = await bucket.list(delimiter="/")
    assert [o.key for o in top.objects] == ["b"]
    assert top.delimitedPrefixes == ["a/", "c/"]
    inner = await bucket.list(prefix="a/", delimiter="/")
    assert [o.key for o in inner.objects] == ["a/1", "a/2"]
    assert inner.delimitedPrefixes == ["a/sub/", "a/tub/"]
    page = await bucket.list(prefix="a/", delimiter="/", limit=3)
    assert [o.key for o in page.objects] == ["a/1", "a/2"] and page.delimitedPrefixes == ["a/sub/"]
    rest = await bucket.list(prefix="a/", delimiter="/", limit=3, cursor=page.cursor)
    assert rest.delimitedPrefixes == ["a/tub/"] and rest.truncated is False


async def test_list_cursor_pages_through_everything(bucket: R2BucketBinding) -> None:
    keys = [f"k{i:03d}" for i in range(25)]
    for key in keys:
        await bucket.put(key, "x")
    seen, cursor = [], None
    while True:
        page = await bucket.list(limit=10, cursor=cursor)
        seen += [o.key for o in page.objects]
        if not page.truncated:
            break
        cursor = page.cursor
    assert seen == keys
    exact = await bucket.list(limit=25)
    assert exact.truncated is False


async def test_list_limits(bucket: R2BucketBinding) -> None:
    for bad in (0, 1001, -1, "5"):
        with pytest.raises(R2Error, match=r"MaxKeys params must be positive integer <= 1000\."):
            await bucket.list(limit=bad)
    with pytest.raises(R2Error, match="include accepts"):
        await bucket.list(include=["everything"])
    with pytest.raises(R2Error, match="invalid cursor"):
        await bucket.list(cursor="!!!")
