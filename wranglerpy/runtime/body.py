"""Message bodies shared by ``Request`` and ``Response``: buffered bytes or a one-shot stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any

_Bytes = bytes  # `bytes` is also a method of Body; annotations inside it use this
BodyInit = (
    Any  # str | bytes | bytearray | memoryview | AsyncIterable[bytes|str] | Iterable[bytes] | None
)


class BodyUsedError(TypeError):
    """The body of this request or response was already read (Fetch: "Body has already been used")."""

    def __init__(self) -> None:
        super().__init__("Body has already been used. It can only be used once.")


async def _aiter_sync(chunks: Iterable[Any]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield _to_bytes(chunk)


async def _aiter_async(chunks: AsyncIterable[Any]) -> AsyncIterator[bytes]:
    iterator = aiter(chunks)
    try:
        async for chunk in iterator:
            if chunk:
                yield _to_bytes(chunk)
    finally:
        # Closing the body closes its source at once (a generator, a model stream, an upstream).
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


def _to_bytes(chunk: Any) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    if isinstance(chunk, (bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(f"body chunks must be bytes or str, got {type(chunk).__name__}")


class Body:
    """A body is either fully buffered (``_buffer``) or a stream read once (``_stream``)."""

    _buffer: bytes | None
    _stream: AsyncIterator[bytes] | None
    _used: bool

    def _init_body(self, body: BodyInit) -> str | None:
        """Store ``body``; return the content type it implies, if any."""
        self._used = False
        self._stream = None
        self._buffer = None
        if body is None:
            return None
        if isinstance(body, str):
            self._buffer = body.encode("utf-8")
            return "text/plain;charset=UTF-8"
        if isinstance(body, (bytes, bytearray, memoryview)):
            self._buffer = bytes(body)
            return None
        if isinstance(body, Body):
            self._buffer, self._stream = body._take()
            return None
        if hasattr(body, "__aiter__"):
            self._stream = _aiter_async(body)
            return None
        if isinstance(body, Iterable) and not isinstance(body, (dict, set)):
            self._stream = _aiter_sync(body)
            return None
        raise TypeError(
            f"unsupported body type {type(body).__name__}: use str, bytes, or an (async) "
            "iterable of bytes; for JSON use Response.json(...)"
        )

    def _take(self) -> tuple[bytes | None, AsyncIterator[bytes] | None]:
        if self._used:
            raise BodyUsedError()
        self._used = True
        return self._buffer, self._stream

    @property
    def bodyUsed(self) -> bool:  # noqa: N802 - the Fetch API's name
        return self._used

    @property
    def body(self) -> AsyncIterator[bytes] | None:
        """The body as an async iterator of bytes (read once), or None when there is none."""
        if self._buffer is None and self._stream is None:
            return None
        buffer, stream = self._take()
        if stream is not None:
            return stream
        return _aiter_sync([buffer or b""])

    def has_body(self) -> bool:
        return self._buffer is not None or self._stream is not None

    def is_buffered(self) -> bool:
        return self._stream is None

    async def bytes(self) -> _Bytes:
        buffer, stream = self._take()
        if stream is None:
            return buffer or b""
        parts = [chunk async for chunk in stream]
        return b"".join(parts)

    async def arrayBuffer(self) -> _Bytes:  # noqa: N802 - the Fetch API's name
        return await self.bytes()

    async def text(self) -> str:
        return (await self.bytes()).decode("utf-8", errors="replace")

    async def json(self) -> Any:
        return json.loads(await self.bytes())
