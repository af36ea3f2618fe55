"""ListBuckets, ListObjectsV2 and ListObjects (v1), over the R2 binding's ``list``.

R2's list already counts delimited prefixes toward the limit and returns a cursor, which is
exactly S3's ``MaxKeys``/``ContinuationToken``; v1's ``Marker`` is R2's ``startAfter``.
"""

from __future__ import annotations

from typing import Any

from wranglerpy.bindings.r2 import R2Error
from wranglerpy.services.asgi import Request, Response
from wranglerpy.services.s3 import xml
from wranglerpy.services.s3.buckets import Bucket, Buckets
from wranglerpy.services.s3.errors import from_r2, invalid_argument

OWNER: list[xml.Field] = [("ID", "wranglerpy"), ("DisplayName", "wranglerpy")]


def list_buckets(buckets: Buckets) -> Response:
    entries: list[xml.Field] = [
        ("Bucket", [("Name", name), ("CreationDate", buckets.created(name))])
        for name in buckets.names()
    ]
    body = xml.render("ListAllMyBucketsResult", [("Owner", OWNER), ("Buckets", entries)])
    return Response(200, [("Content-Type", xml.CONTENT_TYPE)], body)


def _max_keys(request: Request) -> int:
    raw = request.arg("max-keys")
    if raw is None or raw == "":
        return 1000
    try:
        value = int(raw)
    except ValueError:
        raise invalid_argument(
            "Provided max-keys not an integer or within integer range", "max-keys", raw
        ) from None
    if value < 0:
        raise invalid_argument(
            "Argument maxKeys must be an integer between 0 and 2147483647", "max-keys", raw
        )
    return min(value, 1000)


async def _page(bucket: Bucket, request: Request, start_after: str, cursor: str | None) -> Any:
    options: dict[str, Any] = {"include": ["httpMetadata"]}
    for param, name in (("prefix", "prefix"), ("delimiter", "delimiter")):
        value = request.arg(param)
        if value:
            options[name] = value
    if start_after:
        options["startAfter"] = start_after
    if cursor:
        options["cursor"] = cursor
    options["limit"] = _max_keys(request)
    if options["limit"] == 0:
        return {"objects": [], "delimitedPrefixes": [], "truncated": False}
    try:
        return await bucket.binding.list(options)
    except R2Error as exc:
        error = from_r2(exc)
        if cursor and "cursor" in str(exc):
            raise invalid_argument(
                "The continuation token provided is incorrect", "continuation-token", cursor
            ) from None
        raise error from None


def _contents(page: Any, url: bool) -> list[xml.Field]:
    fields: list[xml.Field] = []
    for obj in page["objects"]:
        fields.append(
            (
                "Contents",
                [
                    ("Key", xml.encode_key(obj.key, url)),
                    ("LastModified", obj.uploaded),
                    ("ETag", obj.httpEtag),
                    ("Size", obj.size),
                    ("StorageClass", "STANDARD"),
                ],
            )
        )
    for prefix in page["delimitedPrefixes"]:
        fields.append(("CommonPrefixes", [("Prefix", xml.encode_key(prefix, url))]))
    return fields


def _encoding(request: Request) -> bool:
    kind = request.arg("encoding-type")
    if kind not in (None, "", "url"):
        raise invalid_argument(
            "Invalid Encoding Method specified in Request", "encoding-type", kind
        )
    return kind == "url"


async def list_objects_v2(bucket: Bucket, request: Request) -> Response:
    url = _encoding(request)
    token = request.arg("continuation-token")
    if token == "":
        raise invalid_argument(
            "The continuation token provided is incorrect", "continuation-token", ""
        )
    start_after = request.arg("start-after") or ""
    page = await _page(bucket, request, start_after, token)
    count = len(page["objects"]) + len(page["delimitedPrefixes"])
    fields: list[xml.Field] = [
        ("Name", bucket.name),
        ("Prefix", xml.encode_key(request.arg("prefix") or "", url)),
        ("Delimiter", xml.encode_key(request.arg("delimiter") or "", url) or None),
        ("MaxKeys", _max_keys(request)),
        ("KeyCount", count),
        ("IsTruncated", bool(page["truncated"])),
        ("ContinuationToken", token),
        ("NextContinuationToken", page.get("cursor") if page["truncated"] else None),
        ("StartAfter", xml.encode_key(start_after, url) if start_after else None),
        ("EncodingType", "url" if url else None),
        *_contents(page, url),
    ]
    body = xml.render("ListBucketResult", fields)
    return Response(200, [("Content-Type", xml.CONTENT_TYPE)], body)


async def list_objects_v1(bucket: Bucket, request: Request) -> Response:
    url = _encoding(request)
    marker = request.arg("marker") or ""
    delimiter = request.arg("delimiter") or ""
    start_after = marker
    if delimiter and marker.endswith(delimiter):
        # A NextMarker that is a common prefix: continue past every key under it.
        start_after = marker + "\U0010ffff"
    page = await _page(bucket, request, start_after, None)
    next_marker = None
    if page["truncated"] and delimiter:
        # v1 gives NextMarker only with a delimiter: the last key or prefix of this page.
        last = [o.key for o in page["objects"]] + list(page["delimitedPrefixes"])
        next_marker = xml.encode_key(max(last), url) if last else None
    fields: list[xml.Field] = [
        ("Name", bucket.name),
        ("Prefix", xml.encode_key(request.arg("prefix") or "", url)),
        ("Marker", xml.encode_key(marker, url)),
        ("NextMarker", next_marker),
        ("MaxKeys", _max_keys(request)),
        ("Delimiter", xml.encode_key(delimiter, url) or None),
        ("IsTruncated", bool(page["truncated"])),
        ("EncodingType", "url" if url else None),
        *_contents(page, url),
    ]
    body = xml.render("ListBucketResult", fields)
    return Response(200, [("Content-Type", xml.CONTENT_TYPE)], body)
