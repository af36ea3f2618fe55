"""SigV4 checks against AWS's published examples (the "Signature Calculations for the
Authorization Header" and "Query String Authentication" pages of the S3 API reference, which
use the example key pair below), and the refusals a client sees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest
from botocore.exceptions import ClientError

from tests.services.s3.conftest import client
from wranglerpy.services.asgi import Request
from wranglerpy.services.s3.auth import Verifier
from wranglerpy.services.s3.errors import S3Error
from wranglerpy.services.server import ServicesHandle

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
WHEN = dt.datetime(2013, 5, 24, tzinfo=dt.timezone.utc).timestamp()
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


async def _nothing() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def request(
    method: str, path: str, headers: dict[str, str], query: str = "",
    receive: Callable[[], Awaitable[dict[str, Any]]] = _nothing,
) -> Request:  # fmt: skip
    return Request(
        method=method,
        path=path,
        raw_path=path.encode(),
        query=parse_qsl(query, keep_blank_values=True),
        raw_query=query,
        headers={k.lower(): v for k, v in headers.items()},
        receive=receive,
    )


def verifier(offset: float = 0.0) -> Verifier:
    return Verifier({KEY_ID: SECRET}, clock=lambda: WHEN + offset)


GET_OBJECT = {
    "Host": "examplebucket.s3.amazonaws.com",
    "Range": "bytes=0-9",
    "x-amz-content-sha256": EMPTY,
    "x-amz-date": "20130524T000000Z",
    "Authorization": (
        f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    ),
}


def test_header_signature_matches_aws_example() -> None:
    signed = verifier().verify(request("GET", "/test.txt", GET_OBJECT))
    assert signed.payload == EMPTY


def test_tampered_header_is_signature_does_not_match() -> None:
    headers = {**GET_OBJECT, "Range": "bytes=0-10"}
    with pytest.raises(S3Error) as info:
        verifier().verify(request("GET", "/test.txt", headers))
    assert info.value.code == "SignatureDoesNotMatch"


def test_skewed_clock_is_refused() -> None:
    with pytest.raises(S3Error) as info:
        verifier(offset=16 * 60).verify(request("GET", "/test.txt", GET_OBJECT))
    assert info.value.code == "RequestTimeTooSkewed"


PRESIGNED = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256"
    f"&X-Amz-Credential={KEY_ID}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
)


def test_presigned_url_matches_aws_example() -> None:
    headers = {"Host": "examplebucket.s3.amazonaws.com"}
    signed = verifier(offset=3600).verify(request("GET", "/test.txt", headers, PRESIGNED))
    assert signed.payload == "UNSIGNED-PAYLOAD"


def test_presigned_url_expires() -> None:
    headers = {"Host": "examplebucket.s3.amazonaws.com"}
    with pytest.raises(S3Error) as info:
        verifier(offset=86401).verify(request("GET", "/test.txt", headers, PRESIGNED))
    assert (info.value.code, info.value.message) == ("AccessDenied", "Request has expired")


def test_anonymous_and_sigv2_are_refused() -> None:
    with pytest.raises(S3Error) as info:
        verifier().verify(request("GET", "/b/k", {"Host": "h"}))
    assert info.value.code == "AccessDenied"
    sigv2 = {"Host": "h", "Authorization": "AWS AKID:c2lnbmF0dXJl"}
    with pytest.raises(S3Error) as info:
        verifier().verify(request("GET", "/b/k", sigv2))
    assert "AWS4-HMAC-SHA256" in info.value.message


# -- through boto3 and a real server ---------------------------------------------------------


def test_wrong_secret_and_unknown_key(services: ServicesHandle) -> None:
    wrong = client(services)
    wrong._request_signer._credentials.secret_key = "not-the-secret"  # noqa: SLF001
    with pytest.raises(ClientError) as info:
        wrong.list_buckets()
    assert info.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    unknown = client(services)
    unknown._request_signer._credentials.access_key = "nobody"  # noqa: SLF001
    with pytest.raises(ClientError) as info:
        unknown.list_buckets()
    assert info.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_presigned_get_and_put(s3: Any, bucket: str) -> None:
    import httpx

    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "up/loaded.txt"}, ExpiresIn=300
    )
    assert httpx.put(put_url, content=b"sent with a presigned URL").status_code == 200
    get_url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": "up/loaded.txt", "ResponseContentType": "text/x-test"},
        ExpiresIn=300,
    )
    response = httpx.get(get_url)
    assert response.status_code == 200
    assert response.content == b"sent with a presigned URL"
    assert response.headers["content-type"] == "text/x-test"
    tampered = httpx.get(get_url.replace("up/loaded.txt", "up/other.txt"))
    assert tampered.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in tampered.content
