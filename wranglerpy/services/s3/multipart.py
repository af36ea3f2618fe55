"""Multipart uploads: Create, UploadPart, Complete, Abort, ListParts, ListMultipartUploads,
over the R2 binding's ``createMultipartUpload``/``resumeMultipartUpload`` (so the part-size
rules and the ``<md5 of md5s>-<n>`` etag are R2's own)."""

from __future__ import annotations

from typing import Any

from wranglerpy.bindings.r2 import R2Error
from wranglerpy.bindings.r2.meta import from_millis
from wranglerpy.services.asgi import Request, Response
from wranglerpy.services.s3 import xml
from wranglerpy.services.s3.auth import Signed
from wranglerpy.services.s3.buckets import Bucket
from wranglerpy.services.s3.errors import (
    S3Error,
    from_r2,
    invalid_argument,
    malformed_xml,
    no_such_upload,
)
from wranglerpy.services.s3.objects import request_metadata
from wranglerpy.services.s3.payload import checked_body

MAX_COMPLETE_BODY = 4 * 1024 * 1024
XML_HEADERS = [("Content-Type", xml.CONTENT_TYPE)]


async def create(bucket: Bucket, key: str, request: Request) -> Response:
    http, custom = request_metadata(request.headers)
    try:
        upload = await bucket.binding.createMultipartUpload(
            key, httpMetadata=http, customMetadata=custom
        )
    except R2Error as exc:
        raise from_r2(exc) from None
    body = xml.render(
        "InitiateMultipartUploadResult",
        [("Bucket", bucket.name), ("Key", key), ("UploadId", upload.uploadId)],
    )
    return Response(200, XML_HEADERS, body)


def _part_number(request: Request) -> int:
    raw = request.arg("partNumber") or ""
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive", "partNumber", raw
        )
    return int(raw)


async def upload_part(bucket: Bucket, key: str, request: Request, signed: Signed) -> Response:
    number = _part_number(request)
    upload_id = request.arg("uploadId") or ""
    if "x-amz-copy-source" in request.headers:
        raise S3Error(501, "NotImplemented", "UploadPartCopy is not supported locally.")
    upload = bucket.binding.resumeMultipartUpload(key, upload_id)
    try:
        part = await upload.uploadPart(number, checked_body(request, signed))
    except R2Error as exc:
        raise from_r2(exc) from None
    return Response(200, [("ETag", f'"{part["etag"]}"')])


async def complete(bucket: Bucket, key: str, request: Request, signed: Signed) -> Response:
    upload_id = request.arg("uploadId") or ""
    body = bytearray()
    async for chunk in checked_body(request, signed):
        body += chunk
        if len(body) > MAX_COMPLETE_BODY:
            raise malformed_xml()
    root = xml.parse(bytes(body), "CompleteMultipartUpload")
    parts: list[dict[str, Any]] = []
    numbers: list[int] = []
    for element in xml.children(root, "Part"):
        number = (xml.child_text(element, "PartNumber") or "").strip()
        etag = (xml.child_text(element, "ETag") or "").strip()
        if not number.isdigit() or not etag:
            raise malformed_xml()
        parts.append({"partNumber": int(number), "etag": etag.strip('"')})
        numbers.append(int(number))
    if not parts:
        raise malformed_xml()
    if numbers != sorted(numbers):
        raise S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order.")
    upload = bucket.binding.resumeMultipartUpload(key, upload_id)
    try:
        obj = await upload.complete(parts)
    except R2Error as exc:
        error = from_r2(exc)
        if error.code == "NoSuchUpload":
            raise no_such_upload(upload_id) from None
        raise error from None
    result = xml.render(
        "CompleteMultipartUploadResult",
        [
            ("Location", f"/{bucket.name}/{key}"),
            ("Bucket", bucket.name),
            ("Key", key),
            ("ETag", obj.httpEtag),
        ],
    )
    return Response(200, XML_HEADERS, result)


async def abort(bucket: Bucket, key: str, request: Request) -> Response:
    upload_id = request.arg("uploadId") or ""
    try:
        await bucket.binding.resumeMultipartUpload(key, upload_id).abort()
    except R2Error as exc:
        error = from_r2(exc)
        if error.code == "NoSuchUpload":
            raise no_such_upload(upload_id) from None
        raise error from None
    return Response(204)


async def list_parts(bucket: Bucket, key: str, request: Request) -> Response:
    upload_id = request.arg("uploadId") or ""
    parts = await bucket.parts(upload_id)
    if parts is None:
        raise no_such_upload(upload_id)
    marker_raw = request.arg("part-number-marker") or "0"
    max_raw = request.arg("max-parts") or "1000"
    if not marker_raw.isdigit() or not max_raw.isdigit():
        raise invalid_argument("part-number-marker and max-parts must be integers")
    marker, limit = int(marker_raw), min(int(max_raw), 1000)
    after = [p for p in parts if p[0] > marker]
    page, truncated = after[:limit], len(after) > limit
    fields: list[xml.Field] = [
        ("Bucket", bucket.name),
        ("Key", key),
        ("UploadId", upload_id),
        ("PartNumberMarker", marker),
        ("NextPartNumberMarker", page[-1][0] if page else marker),
        ("MaxParts", limit),
        ("IsTruncated", truncated),
        ("StorageClass", "STANDARD"),
    ]
    fields += [
        ("Part", [("PartNumber", number), ("ETag", f'"{etag}"'), ("Size", size)])
        for number, size, etag in page
    ]
    return Response(200, XML_HEADERS, xml.render("ListPartsResult", fields))


async def list_uploads(bucket: Bucket, request: Request) -> Response:
    prefix = request.arg("prefix") or ""
    uploads = await bucket.uploads(prefix)
    fields: list[xml.Field] = [
        ("Bucket", bucket.name),
        ("Prefix", prefix),
        ("MaxUploads", 1000),
        ("IsTruncated", False),
    ]
    fields += [
        (
            "Upload",
            [
                ("Key", key),
                ("UploadId", upload_id),
                ("Initiated", from_millis(created)),
                ("StorageClass", "STANDARD"),
            ],
        )
        for key, upload_id, created in uploads[:1000]
    ]
    return Response(200, XML_HEADERS, xml.render("ListMultipartUploadsResult", fields))
