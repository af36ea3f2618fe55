"""What the S3 store relies on from the server, checked against a real one (SeaweedFS)."""

import asyncio
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.state.servers import Server
from wranglerpy.bindings.r2 import R2BucketBinding
from wranglerpy.state.backends import parse_r2_url
from wranglerpy.state.s3_r2 import S3R2Store, object_name

pytestmark = pytest.mark.cluster


@pytest.fixture
def store(s3_server: Server) -> Any:
    url = parse_r2_url(f"{s3_server.url}?bucket_prefix=s{uuid.uuid4().hex[:10]}-")
    s = S3R2Store(url, "bucket")
    yield s
    s.close()


async def test_the_server_honours_if_match_and_if_none_match(store: S3R2Store) -> None:
    """The conditional puts are atomic only because the server refuses a stale If-Match."""
    binding = R2BucketBinding(store, bucket_name="bucket")
    await binding.put("k", "one")
    name = object_name(b"k")
    s3 = store._s3
    with pytest.raises(ClientError) as stale:
        s3.put_object(Bucket=store.bucket, Key=name, Body=b"x", IfMatch='"0000"')
    assert stale.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError) as exists:
        s3.put_object(Bucket=store.bucket, Key=name, Body=b"x", IfNoneMatch="*")
    assert exists.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert await (await binding.get("k")).text() == "one"


async def test_racing_create_only_puts_have_one_winner(store: S3R2Store) -> None:
    binding = R2BucketBinding(store, bucket_name="bucket")
    results = await asyncio.gather(
        *(binding.put("race", f"writer {i}", onlyIf={"etagDoesNotMatch": "*"}) for i in range(8))
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    got = await binding.get("race")
    assert got is not None and got.etag == winners[0].etag


async def test_objects_written_by_other_s3_clients_still_read(store: S3R2Store) -> None:
    binding = R2BucketBinding(store, bucket_name="bucket")
    await binding.put("seed", "x")  # creates the bucket
    store._s3.put_object(Bucket=store.bucket, Key=object_name(b"raw"), Body=b"plain")
    got = await binding.get("raw")
    assert got is not None and await got.text() == "plain" and got.size == 5
    assert [o.key for o in (await binding.list()).objects] == ["raw", "seed"]
