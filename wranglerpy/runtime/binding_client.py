"""The caller's side of service-binding calls (see ``frames``): pooled unix connections."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from wranglerpy.runtime import frames
from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.messages import Request, Response

MAX_IDLE = 32


class BindingTransport(Protocol):
    """Sends one request to one target and returns its (streamed) response."""

    async def send(self, request: Request, extra_headers: dict[str, str]) -> Response: ...


class TargetGone(ConnectionError):
    """The target closed the connection before answering (e.g. it was restarting)."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class UnixFrameTransport:
    """Calls over the target's unix socket; idle connections are kept for the next call."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self._idle: list[_Connection] = []

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_unix_connection(self.socket_path, limit=1 << 20)
        return _Connection(reader, writer)

    def _release(self, conn: _Connection) -> None:
        if len(self._idle) < MAX_IDLE and not conn.writer.is_closing():
            self._idle.append(conn)
        else:
            conn.close()

    async def send(self, request: Request, extra_headers: dict[str, str]) -> Response:
        headers = [[k, v] for k, v in request.headers._items if k not in ("host", "content-length")]
        headers.extend([k, v] for k, v in extra_headers.items())
        head = frames.encode_head(
            {"method": request.method, "url": request.url, "headers": headers}
        )
        buffer, stream = request._take() if request.has_body() else (None, None)
        replayable = stream is None
        reused = bool(self._idle)
        conn = self._idle.pop() if self._idle else await self._connect()
        try:
            return await self._call(conn, head, buffer, stream)
        except (TargetGone, ConnectionError):
            conn.close()
            if not (reused and replayable):
                raise
        # A pooled connection the target had closed (a reload): one retry on a fresh one.
        conn = await self._connect()
        try:
            return await self._call(conn, head, buffer, None)
        except BaseException:
            conn.close()
            raise

    async def _call(
        self,
        conn: _Connection,
        head: bytes,
        buffer: bytes | None,
        stream: AsyncIterator[bytes] | None,
    ) -> Response:
        writer = conn.writer
        uploader: asyncio.Task[None] | None = None
        if stream is None:
            body = frames.encode(frames.DATA, buffer) if buffer else b""
            writer.write(head + body + frames.encode(frames.END, b""))
        else:
            writer.write(head)
            uploader = asyncio.ensure_future(_upload(writer, stream))
        try:
            kind, payload = await frames.read_frame(conn.reader)
        except frames.FrameError as exc:
            if uploader is not None:
                uploader.cancel()
            raise TargetGone(str(exc)) from None
        if kind != frames.HEAD:
            raise TargetGone("unexpected frame from the target")
        meta = frames.decode_head(payload)
        response_headers = Headers([(k, v) for k, v in meta.get("headers") or []])
        status = int(meta.get("status", 502))
        if meta.get("buffered"):
            chunks = []
            while True:
                kind, payload = await frames.read_frame(conn.reader)
                if kind == frames.END:
                    break
                chunks.append(payload)
            if uploader is not None:
                await _finish(uploader)
            self._release(conn)
            return Response(b"".join(chunks) or None, status=status, headers=response_headers)
        return Response(self._stream(conn, uploader), status=status, headers=response_headers)

    async def _stream(
        self, conn: _Connection, uploader: asyncio.Task[None] | None
    ) -> AsyncIterator[bytes]:
        finished = False
        try:
            while True:
                kind, payload = await frames.read_frame(conn.reader)
                if kind == frames.END:
                    finished = True
                    return
                if payload:
                    yield payload
        finally:
            if uploader is not None:
                await _finish(uploader)
            if finished:
                self._release(conn)
            else:
                # The reader stopped early: closing tells the target its client went away.
                conn.close()

    async def aclose(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()


async def _upload(writer: asyncio.StreamWriter, stream: AsyncIterator[bytes]) -> None:
    async for chunk in stream:
        if chunk:
            writer.write(frames.encode(frames.DATA, chunk))
            await writer.drain()
    writer.write(frames.encode(frames.END, b""))
    await writer.drain()


async def _finish(uploader: asyncio.Task[None]) -> None:
    if not uploader.done():
        uploader.cancel()
    with contextlib.suppress(BaseException):
        await uploader
