"""boto3 against the local S3 API: objects (put, get with ranges and conditions, head, copy,
delete), and the same objects seen through the R2 binding."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.s3.conftest import client
from wranglerpy.bindings.r2 import R2BucketBinding, R2ObjectBody, bucket_path
from wranglerpy.services.server import ServicesHandle


def code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def test_put_get_head_round_trip(s3: Any, bucket: str) -> None:
    s3.put_object(
        Bucket=bucket,
        Key="docs/hello.txt",
        Body=b"hello world",
        ContentType="text/plain",
        CacheControl="max-age=60",
        Metadata={"author": "ada"},
    )
    got = s3.get_object(Bucket=bucket, Key="docs/hello.txt")
    assert got["Body"].read() == b"hello world"
    assert got["ContentType"] == "text/plain"
    assert got["CacheControl"] == "max-age=60"
    assert got["Metadata"] == {"author": "ada"}
    head = s3.head_object(Bucket=bucket, Key="docs/hello.txt")
    assert head["ContentLength"] == 11
    assert head["ETag"] == '"5eb63bbbe01eeed093cb22bb8f5acdc3"'  # md5, as S3 and R2 give


def test_large_object_streams_both_ways(s3: Any, bucket: str) -> None:
    data = bytes(range(256)) * (3 * 4096 + 7)  # ~3 MiB: a blob file, not an inline row
    s3.put_object(Bucket=bucket, Key="big.bin", Body=data)
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == data


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=0-4", b"01234", "bytes 0-4/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
    ],
)
def test_ranges(s3: Any, bucket: str, header: str, expected: bytes, content_range: str) -> None:
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    got = s3.get_object(Bucket=bucket, Key="digits", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == expected
    assert got["ContentRange"] == content_range


def test_unsatisfiable_range_is_416(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="digits", Range="bytes=10-")
    assert code(info.value) == "InvalidRange"


def test_conditional_get(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"v"
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k", IfMatch='"0000"')
    assert code(info.value) == "PreconditionFailed"
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=future)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    past = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=past)
    assert code(info.value) == "PreconditionFailed"


def test_conditional_put_if_none_match(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert code(info.value) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"


def test_copy_keeps_or_replaces_metadata(s3: Any, bucket: str) -> None:
    s3.put_object(
        Bucket=bucket, Key="src", Body=b"data", ContentType="text/csv", Metadata={"a": "1"}
    )
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    copied = s3.get_object(Bucket=bucket, Key="dst")
    assert (copied["Body"].read(), copied["ContentType"], copied["Metadata"]) == (
        b"data",
        "text/csv",
        {"a": "1"},
    )
    s3.copy_object(
        Bucket=bucket,
        Key="dst2",
        CopySource=f"{bucket}/src",
        MetadataDirective="REPLACE",
        ContentType="text/plain",
        Metadata={"b": "2"},
    )
    replaced = s3.head_object(Bucket=bucket, Key="dst2")
    assert (replaced["ContentType"], replaced["Metadata"]) == ("text/plain", {"b": "2"})


def test_delete_and_delete_objects(s3: Any, bucket: str) -> None:
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    s3.delete_object(Bucket=bucket, Key="a")
    s3.delete_object(Bucket=bucket, Key="never-existed")  # S3: 204 either way
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "b"}, {"Key": "c"}, {"Key": "x"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["b", "c", "x"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_errors_are_s3_xml(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="missing")
    assert code(info.value) == "NoSuchKey"
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket="no-such-bucket", Key="k")
    assert code(info.value) == "NoSuchBucket"
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key="missing")
    assert info.value.response["Error"]["Code"] == "404"  # HEAD errors have no body
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="x" * 1025, Body=b"")
    assert code(info.value) == "InvalidObjectName"


def test_same_objects_as_the_r2_binding(s3: Any, persist_dir: Path) -> None:
    """The S3 API and env.BUCKET read and write one store."""
    s3.put_object(Bucket="configured-bucket", Key="from-s3", Body=b"via boto3")

    async def through_binding() -> bytes:
        binding = R2BucketBinding(
            bucket_path(persist_dir, "configured-bucket"), bucket_name="configured-bucket"
        )
        try:
            await binding.put(
                "from-binding", "via env.BUCKET", httpMetadata={"contentType": "text/plain"}
            )
            got = await binding.get("from-s3")
            assert isinstance(got, R2ObjectBody)
            return bytes(await got.arrayBuffer())
        finally:
            binding.close()

    assert asyncio.run(through_binding()) == b"via boto3"
    got = s3.get_object(Bucket="configured-bucket", Key="from-binding")
    assert (got["Body"].read(), got["ContentType"]) == (b"via env.BUCKET", "text/plain")


def test_checksums_when_required_only(services: ServicesHandle, bucket: str) -> None:
    """Plain signed payloads (no aws-chunked trailer) work too, and the sha256 is checked."""
    plain = client(services, request_checksum_calculation="when_required")
    plain.put_object(Bucket=bucket, Key="k", Body=b"signed payload")
    assert plain.get_object(Bucket=bucket, Key="k")["Body"].read() == b"signed payload"
