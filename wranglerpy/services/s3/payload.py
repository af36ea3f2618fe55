"""Request bodies as the object store takes them: aws-chunked decoding (with the chunk
signatures checked), and the payload checks S3 makes (``x-amz-content-sha256``,
``Content-MD5``, ``x-amz-checksum-*``).

Every check runs while the body streams into storage and raises at its end, so a body that
fails one is discarded by the store instead of becoming an object.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from collections.abc import AsyncIterator

from wranglerpy.services.asgi import Request
from wranglerpy.services.s3.auth import Signed, sign
from wranglerpy.services.s3.errors import S3Error

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_CHUNK = 64 * 1024 * 1024
CHECKSUMS = ("crc32", "sha1", "sha256")  # crc32c/crc64nvme need libraries we do not ship


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def _incomplete() -> S3Error:
    return S3Error(
        400, "IncompleteBody", "You did not provide the number of bytes specified by the header."
    )


async def _aws_chunked(
    source: AsyncIterator[bytes], signed: Signed, trailers: dict[str, str]
) -> AsyncIterator[bytes]:
    """Decode ``size[;chunk-signature=sig]\\r\\n<data>\\r\\n`` ... ``0...\\r\\n<trailers>\\r\\n``."""
    buffer = bytearray()
    chunk_signed = signed.payload.startswith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    previous = signed.seed_signature

    async def need(size: int) -> None:
        while len(buffer) < size:
            try:
                buffer.extend(await source.__anext__())
            except StopAsyncIteration:
                raise _incomplete() from None

    async def line() -> bytes:
        while (end := buffer.find(b"\r\n")) < 0:
            if len(buffer) > 4096:
                raise S3Error(400, "InvalidChunkSizeError", "Invalid chunk header.")
            await need(len(buffer) + 1)
        text = bytes(buffer[:end])
        del buffer[: end + 2]
        return text

    while True:
        header = (await line()).decode("latin-1")
        size_text, _, extension = header.partition(";")
        try:
            size = int(size_text, 16)
        except ValueError:
            raise S3Error(400, "InvalidChunkSizeError", "Invalid chunk header.") from None
        if size > MAX_CHUNK:
            raise S3Error(400, "InvalidChunkSizeError", "Chunk too large.")
        await need(size)
        data = bytes(buffer[:size])
        del buffer[:size]
        if chunk_signed:
            given = extension.partition("chunk-signature=")[2].strip()
            to_sign = "\n".join(
                (
                    "AWS4-HMAC-SHA256-PAYLOAD", signed.amz_date, signed.scope, previous,
                    EMPTY_SHA256, hashlib.sha256(data).hexdigest(),
                )
            )  # fmt: skip
            expected = sign(signed.signing_key, to_sign)
            if not hmac.compare_digest(expected, given):
                raise S3Error(
                    403,
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you "
                    "provided (aws-chunked chunk signature).",
                )
            previous = expected
        if size == 0:
            break
        if await line() != b"":
            raise S3Error(400, "InvalidChunkSizeError", "Chunk data is longer than its size.")
        yield data
    # After the last chunk: trailer lines (x-amz-checksum-*), then an empty line.
    while text := (await line()).decode("latin-1"):
        name, _, value = text.partition(":")
        trailers[name.strip().lower()] = value.strip()


async def checked_body(request: Request, signed: Signed) -> AsyncIterator[bytes]:
    """The decoded body; raises an S3Error at its end when a declared digest does not match."""
    trailers: dict[str, str] = {}
    streaming = signed.payload.startswith("STREAMING-")
    source: AsyncIterator[bytes] = request.stream()
    if streaming:
        source = _aws_chunked(source, signed, trailers)
    sha256 = hashlib.sha256() if not streaming and signed.payload != "UNSIGNED-PAYLOAD" else None
    md5 = hashlib.md5() if "content-md5" in request.headers else None
    sums = {
        name: (_Crc32() if name == "crc32" else hashlib.new(name))
        for name in CHECKSUMS
        if f"x-amz-checksum-{name}" in request.headers
        or f"x-amz-checksum-{name}" in request.headers.get("x-amz-trailer", "").lower()
    }
    size = 0
    async for chunk in source:
        size += len(chunk)
        for digest in (sha256, md5, *sums.values()):
            if digest is not None:
                digest.update(chunk)
        yield chunk
    declared = request.headers.get("x-amz-decoded-content-length")
    if streaming and declared is not None and declared.isdigit() and int(declared) != size:
        raise _incomplete()
    if sha256 is not None and sha256.hexdigest() != signed.payload.lower():
        raise S3Error(
            400,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    if md5 is not None:
        given = request.headers["content-md5"]
        if base64.b64encode(md5.digest()).decode() != given.strip():
            raise S3Error(
                400, "BadDigest", "The Content-MD5 you specified did not match what we received."
            )
    for name, digest in sums.items():
        header = f"x-amz-checksum-{name}"
        sent = request.headers.get(header) or trailers.get(header)
        if sent is None:
            raise S3Error(400, "InvalidRequest", f"The {header} trailer was declared but not sent.")
        if base64.b64encode(digest.digest()).decode() != sent:
            raise S3Error(
                400,
                "BadDigest",
                f"The {name.upper()} you specified did not match the calculated checksum.",
            )
