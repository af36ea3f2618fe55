"""R2 ranged reads: range options, Range headers and unsatisfiable ranges."""

import pytest

from tests.bindings.r2_data import BIG
from wranglerpy.bindings.r2 import R2BucketBinding, R2Error
from wranglerpy.runtime.headers import Headers


@pytest.mark.parametrize("data", [b"0123456789", BIG], ids=["inline", "blob"])
async def test_ranges(bucket: R2BucketBinding, data: bytes) -> None:
    await bucket.put("r", data)
    cases = [
        ({"offset": 2, "length": 3}, data[2:5], (2, 3)),
        ({"offset": 4}, data[4:], (4, len(data) - 4)),
        ({"length": 4}, data[:4], (0, 4)),
        ({"suffix": 3}, data[-3:], (len(data) - 3, 3)),
        ({"offset": 8, "length": 10**9}, data[8:], (8, len(data) - 8)),
    ]
    for spec, expected, (offset, length) in cases:
        got = await bucket.get("r", range=spec)
        assert (got.range.offset, got.range.length) == (offset, length)
        assert await got.arrayBuffer() == expected
        assert got.size == len(data)
    stream = await bucket.get("r", range={"offset": 1})
    assert await stream.body.read_all() == data[1:]


async def test_range_from_request_headers(bucket: R2BucketBinding) -> None:
    await bucket.put("r", "0123456789")
    for header, expected in (("bytes=2-4", b"234"), ("bytes=7-", b"789"), ("bytes=-2", b"89")):
        got = await bucket.get("r", range=Headers({"Range": header}))
        assert await got.arrayBuffer() == expected, header
    whole = await bucket.get("r", range=Headers({"x": "y"}))
    assert await whole.text() == "0123456789" and whole.range is None
    for bad in ("items=1-2", "bytes=5-1", "bytes=1-2,4-5", "bytes=a-"):
        with pytest.raises(R2Error, match="10039"):
            await bucket.get("r", range=Headers({"Range": bad}))


async def test_bad_ranges(bucket: R2BucketBinding) -> None:
    await bucket.put("r", "0123456789")
    for spec in ({"offset": 10}, {"offset": -1}, {"suffix": 2, "offset": 1}, {"length": 0}):
        with pytest.raises(R2Error, match=r"The requested range is not satisfiable.*\(10039\)"):
            await bucket.get("r", range=spec)
