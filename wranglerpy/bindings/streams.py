"""Streams in this runtime: async iterables of ``bytes``.

Bindings accept any async iterable of bytes where Cloudflare accepts a ``ReadableStream``, and
return a :class:`ByteStream` where Cloudflare returns one.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

DEFAULT_CHUNK = 64 * 1024


class ByteStream:
    """An async iterator of ``bytes`` chunks that can be read only once.

    Built from bytes already in memory (``ByteStream.from_bytes``) or from any async iterable.
    ``read_all()`` gathers what is left.
    """

    def __init__(self, source: AsyncIterable[bytes] | Iterable[bytes]) -> None:
        self._async: AsyncIterable[bytes] | None = None
        self._sync: Iterator[bytes] | None = None
        if isinstance(source, AsyncIterable):
            self._async = source
        else:
            self._sync = iter(source)
        self._iterator: AsyncIterator[bytes] | None = None
        self.locked = False

    @classmethod
    def from_bytes(cls, data: bytes, chunk_size: int = DEFAULT_CHUNK) -> ByteStream:
        view = memoryview(data)
        chunks = [bytes(view[i : i + chunk_size]) for i in range(0, len(data), chunk_size)]
        return cls(chunks)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        self.locked = True
        if self._sync is not None:
            try:
                return bytes(next(self._sync))
            except StopIteration:
                raise StopAsyncIteration from None
        if self._iterator is None:
            assert self._async is not None
            self._iterator = self._async.__aiter__()
        return bytes(await self._iterator.__anext__())

    async def read_all(self) -> bytes:
        """Everything not yet read, joined."""
        return b"".join([chunk async for chunk in self])


async def read_limited(source: AsyncIterable[bytes], limit: int) -> tuple[bytes | None, int]:
    """Read ``source`` fully: ``(data, length)``, or ``(None, length)`` past ``limit`` bytes.

    An oversized source is still drained (not kept) so the error can name its real length.
    """
    parts: list[bytes] = []
    total = 0
    async for chunk in source:
        total += len(chunk)
        if total <= limit:
            parts.append(bytes(chunk))
        else:
            parts.clear()
    return (b"".join(parts) if total <= limit else None), total
