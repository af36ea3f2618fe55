"""Message bodies shared by ``Request`` and ``Response``: buffered bytes or a one-shot stream.

A body is read once: a second read raises ``OSError`` as Pyodide's ``FetchResponse`` and the
SDK's ``Request`` do (``"Response body is already used"`` / ``"Body already used"``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any

from wranglerpy.runtime.buffers import ArrayBuffer, js_type_name
from wranglerpy.runtime.streams import ReadableStream

_Bytes = bytes  # `bytes` is also a method of Body; annotations inside it use this
BodyInit = Any  # str | bytes | buffer | FormData | Blob | URLSearchParams | stream | None


class BodyUsedError(OSError):
    """The body of this request or response was already read."""


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
    _readable: ReadableStream | None
    _used_message = "Body already used"

    def _init_body(self, body: BodyInit) -> str | None:
        """Store ``body``; return the content type it implies, if any."""
        self._used = False
        self._stream = None
        self._buffer = None
        self._readable = None
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
        kind = js_type_name(body)
        if kind in ("FormData", "Blob", "File", "URLSearchParams"):
            data, content_type = body._encode()
            self._buffer = data
            return content_type or None
        if isinstance(body, ReadableStream):
            self._stream = _aiter_async(body.read_bytes())
            return None
        if hasattr(body, "__aiter__"):
            self._stream = _aiter_async(body)
            return None
        if isinstance(body, Iterable) and not isinstance(body, (dict, set)):
            self._stream = _aiter_sync(body)
            return None
        raise TypeError(f"Unsupported type in Response: {type(body).__name__}")

    def _take(self) -> tuple[bytes | None, AsyncIterator[bytes] | None]:
        if self._used or (self._readable is not None and self._readable.locked):
            raise BodyUsedError(self._used_message)
        self._used = True
        return self._buffer, self._stream

    def _raise_if_used(self) -> None:
        if self.body_used:
            raise BodyUsedError(self._used_message)

    @property
    def body_used(self) -> bool:
        return self._used or (self._readable is not None and self._readable.locked)

    @property
    def bodyUsed(self) -> bool:  # noqa: N802 - the Fetch API's name
        return self.body_used

    @property
    def body(self) -> ReadableStream | None:
        """The body as a ``ReadableStream`` (async-iterable, read once), or None."""
        if self._buffer is None and self._stream is None:
            return None
        if self._readable is None:
            self._readable = ReadableStream(iterable=self._chunks())
        return self._readable

    async def _chunks(self) -> AsyncIterator[ArrayBuffer]:
        self._used = True
        if self._stream is not None:
            try:
                async for chunk in self._stream:
                    yield ArrayBuffer(chunk)
            finally:
                await self._stream.aclose()  # type: ignore[attr-defined]
        elif self._buffer:
            yield ArrayBuffer(self._buffer)

    def has_body(self) -> bool:
        return self._buffer is not None or self._stream is not None

    def is_buffered(self) -> bool:
        return self._stream is None

    def _tee(self) -> BodyInit:
        """A second, independent copy of the body for ``clone()``."""
        self._raise_if_used()
        if self._stream is None:
            return self._buffer
        first, second = ReadableStream(iterable=self._stream).tee()
        self._stream = _aiter_async(first)
        return second

    async def bytes(self) -> _Bytes:
        self._raise_if_used()
        buffer, stream = self._take()
        if stream is None:
            return buffer or b""
        parts = [chunk async for chunk in stream]
        return b"".join(parts)

    async def buffer(self) -> ArrayBuffer:
        return ArrayBuffer(await self.bytes())

    async def arrayBuffer(self) -> ArrayBuffer:  # noqa: N802 - the Fetch API's name
        return await self.buffer()

    async def text(self) -> str:
        return (await self.bytes()).decode("utf-8", errors="replace")

    async def string(self) -> str:
        """Pyodide's ``FetchResponse.string()``."""
        return await self.text()

    async def memoryview(self) -> memoryview:
        return memoryview(await self.bytes())

    async def json(self, **kwargs: Any) -> Any:
        return json.loads(await self.text(), **kwargs)

    async def form_data(self) -> Any:
        from wranglerpy.runtime.formdata import parse_form

        headers = getattr(self, "_headers", None)
        content_type = headers.get("content-type") if headers is not None else None
        return parse_form(await self.bytes(), content_type)

    async def formData(self) -> Any:  # noqa: N802 - the Fetch API's name
        return await self.form_data()

    async def blob(self) -> Any:
        from wranglerpy.runtime.formdata import Blob

        headers = getattr(self, "_headers", None)
        content_type = (headers.get("content-type") if headers is not None else None) or ""
        return Blob(await self.bytes(), content_type)
