"""The router's side of a call into a worker: pooled frame connections (see runtime.frames).

Leaner than the service-binding client on purpose: the router never builds Request or
Response objects, it moves a head and byte chunks between the client socket and a worker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from wranglerpy.runtime import frames

MAX_IDLE = 64


class Upstream:
    """One open frame connection to a worker."""

    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class FramePool:
    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self._idle: list[Upstream] = []
        self.closed = False

    async def acquire(self) -> tuple[Upstream, bool]:
        """A connection, and whether it was reused (a reused one may have been closed)."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.writer.is_closing() and not conn.reader.at_eof():
                return conn, True
            conn.close()
        reader, writer = await asyncio.open_unix_connection(self.socket_path, limit=1 << 20)
        return Upstream(reader, writer), False

    def release(self, conn: Upstream) -> None:
        if self.closed or len(self._idle) >= MAX_IDLE or conn.writer.is_closing():
            conn.close()
        else:
            self._idle.append(conn)

    def close(self) -> None:
        self.closed = True
        for conn in self._idle:
            conn.close()
        self._idle.clear()


async def send_head(
    conn: Upstream, head: dict[str, Any], body: bytes | None, stream: AsyncIterator[bytes] | None
) -> asyncio.Task[None] | None:
    """Write the request; a streamed body is uploaded by the returned task."""
    data = frames.encode_head(head)
    if stream is None:
        if body:
            data += frames.encode(frames.DATA, body)
        conn.writer.write(data + frames.encode(frames.END, b""))
        return None
    conn.writer.write(data)
    return asyncio.ensure_future(_upload(conn.writer, stream))


async def _upload(writer: asyncio.StreamWriter, stream: AsyncIterator[bytes]) -> None:
    with contextlib.suppress(ConnectionError):
        async for chunk in stream:
            if chunk:
                writer.write(frames.encode(frames.DATA, chunk))
                await writer.drain()
        writer.write(frames.encode(frames.END, b""))
        await writer.drain()


async def read_head(conn: Upstream) -> dict[str, Any]:
    kind, payload = await frames.read_frame(conn.reader)
    if kind != frames.HEAD:
        raise frames.FrameError("unexpected frame from the worker")
    return frames.decode_head(payload)


async def read_chunk(conn: Upstream) -> bytes | None:
    """The next body chunk, or None at the end of the response."""
    kind, payload = await frames.read_frame(conn.reader)
    if kind == frames.END:
        return None
    return payload
