"""Request bodies: aws-chunked with chunk signatures (AWS's "Signature Calculations for the
Authorization Header: Transferring Payload in Multiple Chunks" example), the unsigned
trailer form with a CRC32 trailer, and the digest checks."""

from __future__ import annotations

import asyncio
import base64
import zlib
from typing import Any

import pytest

from tests.services.s3.test_auth import KEY_ID, request, verifier
from wranglerpy.services.s3.auth import Signed
from wranglerpy.services.s3.errors import S3Error
from wranglerpy.services.s3.payload import checked_body

SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
CHUNKED_HEADERS = {
    "Host": "s3.amazonaws.com",
    "x-amz-date": "20130524T000000Z",
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    "Authorization": (
        f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        f"x-amz-decoded-content-length;x-amz-storage-class,Signature={SEED}"
    ),
    "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "Content-Encoding": "aws-chunked",
    "x-amz-decoded-content-length": "66560",
    "Content-Length": "66824",
}


def receiver(body: bytes, piece: int = 5000) -> Any:
    chunks = [body[i : i + piece] for i in range(0, len(body), piece)] or [b""]

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    return receive


def chunked(signatures: tuple[str, ...]) -> bytes:
    sizes = (65536, 1024, 0)
    out = b""
    for size, signature in zip(sizes, signatures, strict=True):
        out += f"{size:x};chunk-signature={signature}\r\n".encode() + b"a" * size + b"\r\n"
    return out


async def collect(body: Any) -> bytes:
    return b"".join([chunk async for chunk in body])


def test_signed_chunks_match_aws_example() -> None:
    body = chunked(CHUNK_SIGNATURES)
    assert len(body) == 66824
    req = request("PUT", "/examplebucket/chunkObject.txt", CHUNKED_HEADERS, receive=receiver(body))
    signed = verifier().verify(req)
    assert asyncio.run(collect(checked_body(req, signed))) == b"a" * 66560


def test_a_tampered_chunk_is_refused() -> None:
    body = chunked(CHUNK_SIGNATURES).replace(b"a" * 10, b"b" * 10, 1)
    req = request("PUT", "/examplebucket/chunkObject.txt", CHUNKED_HEADERS, receive=receiver(body))
    signed = verifier().verify(req)
    with pytest.raises(S3Error) as info:
        asyncio.run(collect(checked_body(req, signed)))
    assert info.value.code == "SignatureDoesNotMatch"


def _unsigned(trailer_value: str) -> tuple[Any, Signed]:
    data = b"hello trailer"
    body = (
        f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n"
        + f"x-amz-checksum-crc32:{trailer_value}\r\n\r\n".encode()
    )  # fmt: skip
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": str(len(data)),
    }
    req = request("PUT", "/b/k", headers, receive=receiver(body, 7))
    signed = Signed("STREAMING-UNSIGNED-PAYLOAD-TRAILER", b"", "", "", "", KEY_ID)
    return req, signed


def test_unsigned_trailer_checksum() -> None:
    good = base64.b64encode(zlib.crc32(b"hello trailer").to_bytes(4, "big")).decode()
    req, signed = _unsigned(good)
    assert asyncio.run(collect(checked_body(req, signed))) == b"hello trailer"
    req, signed = _unsigned("AAAAAA==")
    with pytest.raises(S3Error) as info:
        asyncio.run(collect(checked_body(req, signed)))
    assert info.value.code == "BadDigest"


def test_payload_sha256_mismatch() -> None:
    req = request("PUT", "/b/k", {}, receive=receiver(b"not what was signed"))
    signed = Signed("0" * 64, b"", "", "", "", KEY_ID)
    with pytest.raises(S3Error) as info:
        asyncio.run(collect(checked_body(req, signed)))
    assert info.value.code == "XAmzContentSHA256Mismatch"
