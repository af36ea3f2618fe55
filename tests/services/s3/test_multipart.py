"""Multipart uploads through boto3: explicit calls, ListParts, abort, and boto3's managed
transfer (upload_fileobj/download_fileobj split into parts and ranged GETs)."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

MiB = 1024 * 1024


def test_explicit_multipart(s3: Any, bucket: str) -> None:
    created = s3.create_multipart_upload(
        Bucket=bucket, Key="movie.bin", ContentType="video/mp4", Metadata={"take": "2"}
    )
    upload_id = created["UploadId"]
    parts_data = [b"a" * (5 * MiB), b"b" * (5 * MiB), b"tail"]
    parts = []
    for number, data in enumerate(parts_data, start=1):
        etag = s3.upload_part(
            Bucket=bucket, Key="movie.bin", UploadId=upload_id, PartNumber=number, Body=data
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    listed = s3.list_parts(Bucket=bucket, Key="movie.bin", UploadId=upload_id)
    assert [(p["PartNumber"], p["Size"]) for p in listed["Parts"]] == [
        (1, 5 * MiB),
        (2, 5 * MiB),
        (3, 4),
    ]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [upload_id]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="movie.bin", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    md5s = b"".join(hashlib.md5(d).digest() for d in parts_data)
    assert done["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'  # S3's multipart etag
    got = s3.get_object(Bucket=bucket, Key="movie.bin")
    assert got["Body"].read() == b"".join(parts_data)
    assert (got["ContentType"], got["Metadata"]) == ("video/mp4", {"take": "2"})
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_abort_and_unknown_upload(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    with pytest.raises(ClientError) as info:
        s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    assert info.value.response["Error"]["Code"] == "NoSuchUpload"
    with pytest.raises(ClientError) as info:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert info.value.response["Error"]["Code"] == "NoSuchUpload"


def test_small_middle_part_is_entity_too_small(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    parts = []
    for number in (1, 2):
        etag = s3.upload_part(
            Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=b"tiny"
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    with pytest.raises(ClientError) as info:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    assert info.value.response["Error"]["Code"] == "EntityTooSmall"


def test_managed_transfer_round_trip(s3: Any, bucket: str) -> None:
    data = hashlib.sha256(b"seed").digest() * (12 * MiB // 32)
    config = TransferConfig(
        multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2
    )
    s3.upload_fileobj(io.BytesIO(data), bucket, "managed.bin", Config=config)
    assert s3.head_object(Bucket=bucket, Key="managed.bin")["ETag"].endswith('-3"')
    out = io.BytesIO()
    s3.download_fileobj(bucket, "managed.bin", out, Config=config)  # ranged GETs
    assert out.getvalue() == data
