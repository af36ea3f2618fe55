"""ListBuckets, ListObjectsV2 (prefix, delimiter, continuation, max-keys, start-after) and v1."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

KEYS = ["a/1", "a/2", "a/b/3", "b/1", "c", "d e+f", "ü/x"]


@pytest.fixture
def filled(s3: Any, bucket: str) -> str:
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def test_list_buckets_has_created_and_configured(s3: Any, bucket: str) -> None:
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket in names and "configured-bucket" in names
    s3.head_bucket(Bucket="configured-bucket")  # named by a config, not yet on disk: exists
    with pytest.raises(ClientError) as info:
        s3.head_bucket(Bucket="not-a-bucket")
    assert info.value.response["Error"]["Code"] == "404"


def test_v2_all_keys_in_order(s3: Any, filled: str) -> None:
    listed = s3.list_objects_v2(Bucket=filled)
    assert [o["Key"] for o in listed["Contents"]] == sorted(KEYS)  # boto3 url-decodes keys
    assert listed["KeyCount"] == len(KEYS)
    assert listed["Contents"][0]["Size"] == 3


def test_v2_prefix_and_delimiter(s3: Any, filled: str) -> None:
    top = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/", "ü/"]
    assert [o["Key"] for o in top["Contents"]] == ["c", "d e+f"]
    under_a = s3.list_objects_v2(Bucket=filled, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in under_a["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in under_a["CommonPrefixes"]] == ["a/b/"]


def test_v2_pages_with_continuation(s3: Any, filled: str) -> None:
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Bucket": filled, "MaxKeys": 2}
    pages = 0
    while True:
        page = s3.list_objects_v2(**kwargs)
        pages += 1
        seen += [o["Key"] for o in page.get("Contents", [])]
        assert page["KeyCount"] <= 2
        if not page["IsTruncated"]:
            break
        kwargs["ContinuationToken"] = page["NextContinuationToken"]
    assert seen == sorted(KEYS) and pages == 4
    paginated = s3.get_paginator("list_objects_v2").paginate(
        Bucket=filled, PaginationConfig={"PageSize": 3}
    )
    assert [o["Key"] for page in paginated for o in page["Contents"]] == sorted(KEYS)


def test_v2_start_after_and_max_keys_zero(s3: Any, filled: str) -> None:
    after = s3.list_objects_v2(Bucket=filled, StartAfter="b/1")
    assert [o["Key"] for o in after["Contents"]] == ["c", "d e+f", "ü/x"]
    assert s3.list_objects_v2(Bucket=filled, MaxKeys=0)["KeyCount"] == 0


def test_v1_markers(s3: Any, filled: str) -> None:
    page = s3.list_objects(Bucket=filled, MaxKeys=3, Delimiter="/")
    assert page["IsTruncated"]
    rest = s3.list_objects(Bucket=filled, Marker=page["NextMarker"], Delimiter="/")
    first = [o["Key"] for o in page.get("Contents", [])] + [
        p["Prefix"] for p in page.get("CommonPrefixes", [])
    ]
    second = [o["Key"] for o in rest.get("Contents", [])] + [
        p["Prefix"] for p in rest.get("CommonPrefixes", [])
    ]
    assert sorted(first + second) == ["a/", "b/", "c", "d e+f", "ü/"]
    keys = [
        o["Key"]
        for p in s3.get_paginator("list_objects").paginate(
            Bucket=filled, PaginationConfig={"PageSize": 2}
        )
        for o in p["Contents"]
    ]
    assert keys == sorted(KEYS)


def test_create_and_delete_bucket(s3: Any) -> None:
    s3.create_bucket(Bucket="short-lived")
    s3.put_object(Bucket="short-lived", Key="k", Body=b"v")
    with pytest.raises(ClientError) as info:
        s3.delete_bucket(Bucket="short-lived")
    assert info.value.response["Error"]["Code"] == "BucketNotEmpty"
    s3.delete_object(Bucket="short-lived", Key="k")
    s3.delete_bucket(Bucket="short-lived")
    assert "short-lived" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as info:
        s3.create_bucket(Bucket="Bad_Name")
    assert info.value.response["Error"]["Code"] == "InvalidBucketName"
