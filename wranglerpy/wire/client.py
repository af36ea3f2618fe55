"""The caller's side: pooled frame connections to one worker socket.

Service bindings, cron triggers, the edge router and the CLI (through the edge daemon) all
call workers through ``FrameClient``. It moves heads and byte chunks only; turning them into
``Request``/``Response`` objects is the service binding's business.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import NamedTuple, TypeVar

from wranglerpy.wire import frames
from wranglerpy.wire.frames import (
    CallHead,
    CallLost,
    FetchHead,
    FrameError,
    NotTaken,
    ResponseHead,
    Result,
)

MAX_IDLE = 64
ATTEMPTS = 3  # a call refused unrun goes again on a fresh connection, twice at most
T = TypeVar("T")


class Connection(NamedTuple):
    """One open connection to a worker."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class Answer:
    """The answer to a fetch: its head, then its body (buffered, or streamed once)."""

    def __init__(
        self,
        client: FrameClient,
        conn: Connection,
        head: ResponseHead,
        uploader: asyncio.Task[None] | None,
    ) -> None:
        self.head = head
        self._client = client
        self._conn: Connection | None = conn
        self._uploader = uploader
        self.body: bytes | None = None  # the whole body, once a buffered answer is read

    async def read_all(self) -> bytes:
        """Read the rest of the body; the connection goes back to the pool."""
        chunks = [chunk async for chunk in self.chunks()]
        self.body = b"".join(chunks)
        return self.body

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """Body chunks as they arrive; leaving early closes the connection (cancels the call)."""
        conn = self._conn
        if conn is None:
            return
        finished = False
        try:
            async for chunk in frames.read_body(conn.reader):
                yield chunk
            finished = True
        finally:
            self._conn = None
            uploaded = self._uploader is None or self._uploader.done()
            await _finish(self._uploader)
            if finished and uploaded:
                self._client.release(conn)
            else:
                conn.close()

    def close(self) -> None:
        """Give up on the answer: the worker sees its caller leave."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._uploader is not None and not self._uploader.done():
            self._uploader.cancel()

    @property
    def uploading(self) -> bool:
        """The request body is still being sent (the answer came before it was read)."""
        return self._uploader is not None and not self._uploader.done()


class FrameClient:
    """Calls into the worker listening on ``socket_path``; idle connections are kept."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self._idle: list[Connection] = []
        self.closed = False

    async def _acquire(self) -> Connection:
        while self._idle:
            conn = self._idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return await self._connect()

    async def _connect(self) -> Connection:
        reader, writer = await asyncio.open_unix_connection(self.socket_path, limit=1 << 20)
        return Connection(reader, writer)

    def release(self, conn: Connection) -> None:
        if self.closed or len(self._idle) >= MAX_IDLE or not conn.usable():
            conn.close()
        else:
            self._idle.append(conn)

    async def fetch(
        self,
        head: FetchHead,
        body: bytes | None = None,
        stream: AsyncIterator[bytes] | None = None,
    ) -> Answer:
        """Send a request; a buffered answer is read in full before this returns."""
        request = head.encode()
        if stream is None:
            request += frames.whole_body(body)
        conn, response, uploader = await self._send(request, frames.RESPONSE, _response, stream)
        answer = Answer(self, conn, response, uploader)
        if response.buffered:
            await answer.read_all()
        return answer

    async def call(self, head: CallHead) -> Result:
        """Send a call answered by one value (RPC, scheduled, queue); the value or the error."""
        conn, result, _ = await self._send(head.encode(), frames.RESULT, Result.decode)
        self.release(conn)
        return result

    async def _send(
        self,
        request: bytes,
        kind: int,
        decode: Callable[[bytes], T],
        stream: AsyncIterator[bytes] | None = None,
    ) -> tuple[Connection, T, asyncio.Task[None] | None]:
        """Write ``request`` (then ``stream``, as it comes) and read the answer's first frame,
        of ``kind``.

        A call is sent again only when it provably did not reach the worker's handler: the
        worker answered NOT_TAKEN (a draining process; a reload), the connect failed, or the
        send failed at once (a worker that died between calls). A connection that closes
        after the call went out is ``CallLost``: the worker may have run it (a crash mid-call),
        and running a POST twice is worse than an error, as on Cloudflare. Later attempts use
        fresh connections: the pooled ones likely lead to the same draining process."""
        upload = _Upload(stream) if stream is not None else None
        fresh = connect_failed = False
        for attempt in range(ATTEMPTS):
            last = attempt == ATTEMPTS - 1
            try:
                conn = await (self._connect() if fresh else self._acquire())
            except OSError:
                if connect_failed or last:
                    raise
                fresh = connect_failed = True
                continue
            uploader: asyncio.Task[None] | None = None
            try:
                conn.writer.write(request)
                if conn.writer.is_closing():
                    # The first send failed: the connection was gone before a byte left.
                    conn.close()
                    fresh = True
                    continue
                if upload is not None:
                    uploader = asyncio.ensure_future(_upload(conn.writer, upload.chunks()))
                try:
                    got, payload = await frames.read_frame(conn.reader)
                except FrameError as exc:  # closed (or broken) before the answer began
                    raise CallLost(
                        f"the worker went away after the call was sent, before answering: {exc}"
                    ) from exc
                if got == frames.NOT_TAKEN:
                    conn.close()
                    await _finish(uploader)
                    if last or (upload is not None and upload.started):
                        raise NotTaken("the worker did not take the call: it is stopping")
                    fresh = True
                    continue
                if got != kind:
                    raise FrameError("unexpected answer from the worker")
                return conn, decode(payload), uploader
            except BaseException:
                conn.close()  # cancelled mid-call too: the worker sees its caller leave
                await _finish(uploader)
                raise
        raise NotTaken("the call could not be delivered to the worker")

    def close(self) -> None:
        self.closed = True
        for conn in self._idle:
            conn.close()
        self._idle.clear()


def _response(payload: bytes) -> ResponseHead:
    head = frames.decode_head(frames.RESPONSE, payload)
    assert isinstance(head, ResponseHead)
    return head


class _Upload:
    """A request body stream, sent at most once: ``started`` once a chunk was asked of it (a
    call refused before that may be sent again, with the body still whole)."""

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self._stream = stream
        self.started = False

    async def chunks(self) -> AsyncIterator[bytes]:
        self.started = True
        async for chunk in self._stream:
            yield chunk


async def _upload(writer: asyncio.StreamWriter, stream: AsyncIterator[bytes]) -> None:
    try:
        await frames.send_body(writer, stream)
    except ConnectionError:
        pass
    except Exception:
        # The body failed at its source (a malformed or cut upload): no END frame, the
        # connection closes, and the worker reads an error rather than a short body.
        writer.close()


async def _finish(uploader: asyncio.Task[None] | None) -> None:
    if uploader is None:
        return
    if not uploader.done():
        uploader.cancel()
    with contextlib.suppress(BaseException):
        await uploader
