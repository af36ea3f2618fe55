"""GetObject/HeadObject (ranges, conditional headers), PutObject, CopyObject, DeleteObject(s),
each one call on the R2 binding of the bucket."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from wranglerpy.bindings.r2 import R2Error, R2Object, R2ObjectBody
from wranglerpy.services.asgi import Request, Response
from wranglerpy.services.s3 import xml
from wranglerpy.services.s3.auth import Signed
from wranglerpy.services.s3.buckets import Bucket, Buckets
from wranglerpy.services.s3.errors import (
    S3Error,
    from_r2,
    invalid_argument,
    malformed_xml,
    no_such_key,
)
from wranglerpy.services.s3.payload import checked_body

DEFAULT_TYPE = "application/octet-stream"
MAX_DELETE_BODY = 2 * 1024 * 1024
# request header -> R2 httpMetadata field
HTTP_HEADERS = {
    "content-type": "contentType",
    "content-language": "contentLanguage",
    "content-disposition": "contentDisposition",
    "content-encoding": "contentEncoding",
    "cache-control": "cacheControl",
    "expires": "cacheExpiry",
}
OVERRIDES = {  # GetObject's response-* query parameters (used by presigned URLs)
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


def http_date(when: dt.datetime) -> str:
    return format_datetime(when.astimezone(dt.timezone.utc), usegmt=True)


def request_metadata(headers: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``(httpMetadata, customMetadata)`` from a PUT's headers (``x-amz-meta-*`` is custom)."""
    http: dict[str, Any] = {}
    for header, name in HTTP_HEADERS.items():
        value = headers.get(header)
        if value is None:
            continue
        if header == "content-encoding":
            # aws-chunked is the transfer framing, not the object's encoding.
            value = ",".join(p.strip() for p in value.split(",") if p.strip() != "aws-chunked")
            if not value:
                continue
        if header == "expires":
            try:
                http[name] = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                continue  # S3 keeps an unparsable Expires out of the metadata too
            continue
        http[name] = value
    custom = {k[len("x-amz-meta-") :]: v for k, v in headers.items() if k.startswith("x-amz-meta-")}
    return http, custom


def object_headers(obj: R2Object) -> list[tuple[str, str]]:
    http = obj.httpMetadata
    headers = [
        ("ETag", obj.httpEtag),
        ("Last-Modified", http_date(obj.uploaded)),
        ("Content-Type", http.get("contentType") or DEFAULT_TYPE),
        ("Accept-Ranges", "bytes"),
    ]
    for header, name in HTTP_HEADERS.items():
        value = http.get(name)
        if value is None or header == "content-type":
            continue
        headers.append((header, http_date(value) if isinstance(value, dt.datetime) else value))
    headers += [(f"x-amz-meta-{k}", v) for k, v in obj.customMetadata.items()]
    return headers


def _etag_listed(etag: str, header: str) -> bool:
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return "*" in tags or etag in tags


def _date(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # an unparsable date condition is ignored, as HTTP says


def precondition(headers: Mapping[str, str], obj: R2Object, prefix: str = "if-") -> int | None:
    """412 or 304 when the conditional headers (RFC 9110 order, as S3 applies them) fail."""
    uploaded = obj.uploaded.replace(microsecond=0)
    if_match = headers.get(f"{prefix}match")
    unmodified = _date(headers.get(f"{prefix}unmodified-since"))
    if if_match is not None:
        if not _etag_listed(obj.etag, if_match):
            return 412
    elif unmodified is not None and uploaded > unmodified:
        return 412
    none_match = headers.get(f"{prefix}none-match")
    modified = _date(headers.get(f"{prefix}modified-since"))
    if none_match is not None:
        if _etag_listed(obj.etag, none_match):
            return 304
    elif modified is not None and uploaded <= modified:
        return 304
    return None


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(offset, length)`` of ``Range: bytes=...``; None for the whole object (also when the
    header is not one range S3 understands, which S3 ignores)."""
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or not dash or "," in spec:
        return None
    try:
        if not first:
            length = int(last)
            if length == 0 or size == 0:
                raise _unsatisfiable(size)
            return max(0, size - length), min(length, size)
        offset = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if offset >= size:
        raise _unsatisfiable(size)
    if end < offset:
        return None
    return offset, min(end, size - 1) - offset + 1


def _unsatisfiable(size: int) -> S3Error:
    error = S3Error(
        416,
        "InvalidRange",
        "The requested range is not satisfiable",
        ActualObjectSize=str(size),
    )
    error.headers.append(("Content-Range", f"bytes */{size}"))
    return error


async def _head(bucket: Bucket, key: str) -> R2Object:
    try:
        obj = await bucket.binding.head(key)
    except R2Error as exc:
        raise from_r2(exc) from None
    if obj is None:
        raise no_such_key(key)
    return obj


async def get_object(bucket: Bucket, key: str, request: Request) -> Response:
    # The head decides the answer (conditions, range, headers); the body is read with
    # onlyIf on the head's etag, so both describe one version. A write in between: again.
    for _attempt in range(3):
        obj = await _head(bucket, key)
        response = _answer_from_head(obj, request)
        if response.status not in (200, 206) or request.method == "HEAD":
            return response
        span = byte_range(request.headers.get("range"), obj.size)
        options: dict[str, Any] = {"onlyIf": {"etagMatches": obj.etag}}
        if span is not None:
            options["range"] = {"offset": span[0], "length": span[1]}
        try:
            body = await bucket.binding.get(key, options)
        except R2Error as exc:
            raise from_r2(exc) from None
        if isinstance(body, R2ObjectBody):
            response.body = body.body
            return response
    raise S3Error(503, "SlowDown", "The object changed while it was read; please retry.")


def _answer_from_head(obj: R2Object, request: Request) -> Response:
    """Status and headers of a GET/HEAD (its body still to be filled in for a GET)."""
    failed = precondition(request.headers, obj)
    if failed == 304:
        return Response(304, [("ETag", obj.httpEtag), ("Last-Modified", http_date(obj.uploaded))])
    if failed == 412:
        raise S3Error(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            Condition="If-Match" if "if-match" in request.headers else "If-Unmodified-Since",
        )
    span = byte_range(request.headers.get("range"), obj.size)
    headers = object_headers(obj)
    for param, header in OVERRIDES.items():
        value = request.arg(param)
        if value is not None:
            headers = [(k, v) for k, v in headers if k.lower() != header.lower()]
            headers.append((header, value))
    if span is not None:
        headers.append(("Content-Range", f"bytes {span[0]}-{span[0] + span[1] - 1}/{obj.size}"))
    headers.append(("Content-Length", str(span[1] if span else obj.size)))
    return Response(206 if span else 200, headers)


async def put_object(bucket: Bucket, key: str, request: Request, signed: Signed) -> Response:
    http, custom = request_metadata(request.headers)
    only_if: dict[str, Any] = {}
    if "if-none-match" in request.headers:
        only_if["etagDoesNotMatch"] = request.headers["if-none-match"]
    if "if-match" in request.headers:
        only_if["etagMatches"] = request.headers["if-match"]
    try:
        obj = await bucket.binding.put(
            key,
            checked_body(request, signed),
            httpMetadata=http,
            customMetadata=custom,
            onlyIf=only_if or None,
        )
    except R2Error as exc:
        raise from_r2(exc) from None
    if obj is None:
        raise S3Error(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
        )
    return Response(200, [("ETag", obj.httpEtag)])


def copy_source(header: str) -> tuple[str, str]:
    """``x-amz-copy-source: [/]bucket/key[?versionId=..]`` (URL-encoded) as (bucket, key)."""
    path = unquote(header.split("?", 1)[0]).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            "x-amz-copy-source",
            header,
        )
    return bucket, key


async def copy_object(buckets: Buckets, bucket: Bucket, key: str, request: Request) -> Response:
    source_bucket, source_key = copy_source(request.headers["x-amz-copy-source"])
    source = buckets.get(source_bucket)
    obj = await _head(source, source_key)
    if precondition(request.headers, obj, prefix="x-amz-copy-source-if-") is not None:
        raise S3Error(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
        )
    directive = request.headers.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise invalid_argument("Unknown metadata directive.", "x-amz-metadata-directive", directive)
    if directive == "REPLACE":
        http, custom = request_metadata(request.headers)
    else:
        if source is bucket and source_key == key:
            raise S3Error(
                400,
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
            )
        http, custom = dict(obj.httpMetadata), dict(obj.customMetadata)
    try:
        body = await source.binding.get(source_key, onlyIf={"etagMatches": obj.etag})
        if body is None or not hasattr(body, "body"):
            raise no_such_key(source_key)
        copied = await bucket.binding.put(
            key, _stream(body.body), httpMetadata=http, customMetadata=custom
        )
    except R2Error as exc:
        raise from_r2(exc) from None
    assert copied is not None  # no onlyIf on the put
    result = xml.render(
        "CopyObjectResult", [("LastModified", copied.uploaded), ("ETag", copied.httpEtag)]
    )
    return Response(200, [("Content-Type", xml.CONTENT_TYPE)], result)


async def _stream(source: Any) -> AsyncIterator[bytes]:
    async for chunk in source:
        yield chunk


async def delete_object(bucket: Bucket, key: str) -> Response:
    try:
        await bucket.binding.delete(key)
    except R2Error as exc:
        raise from_r2(exc) from None
    return Response(204)


async def delete_objects(bucket: Bucket, request: Request, signed: Signed) -> Response:
    body = bytearray()
    async for chunk in checked_body(request, signed):
        body += chunk
        if len(body) > MAX_DELETE_BODY:
            raise malformed_xml()
    root = xml.parse(bytes(body), "Delete")
    quiet = (xml.child_text(root, "Quiet") or "").strip().lower() == "true"
    keys = [xml.child_text(o, "Key") or "" for o in xml.children(root, "Object")]
    if not keys or len(keys) > 1000:
        raise malformed_xml()
    results: list[xml.Field] = []
    for key in keys:
        try:
            await bucket.binding.delete(key)
        except R2Error as exc:
            error = from_r2(exc)
            fields: list[xml.Field] = [
                ("Key", key),
                ("Code", error.code),
                ("Message", error.message),
            ]
            results.append(("Error", fields))
            continue
        if not quiet:
            results.append(("Deleted", [("Key", key)]))
    return Response(200, [("Content-Type", xml.CONTENT_TYPE)], xml.render("DeleteResult", results))
