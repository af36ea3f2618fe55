"""The worker's side: accepts calls on its unix socket and hands each to its kind's handler."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from wranglerpy.wire import frames
from wranglerpy.wire.frames import FetchHead, FrameError, Head, ResponseHead, Result

_BODY_QUEUE = 16  # request body chunks read ahead of the handler


class Call:
    """One call on a connection, as its handler sees it: the request body, the way back."""

    def __init__(
        self,
        writer: asyncio.StreamWriter,
        has_body: bool,
        on_complete: Callable[[], None] | None = None,
    ) -> None:
        self.writer = writer
        self.gone = asyncio.Event()  # the caller went away
        self.answered = False
        # The whole answer is written: the connection is its caller's again (the handler may
        # still be at work, e.g. on ``ctx.waitUntil``), so a next call on it may come.
        self.complete = False
        self._on_complete = on_complete
        self.body_done = not has_body
        # Made when a body chunk arrives or the handler reads: most calls have no body.
        self._queue: asyncio.Queue[bytes | None] | None = None
        self._abandoned = False
        self._pump: asyncio.Task[bool] | None = None  # a streamed answer being sent

    # ----------------------------------------------------------- request body
    def _chunks(self) -> asyncio.Queue[bytes | None]:
        if self._queue is None:
            self._queue = asyncio.Queue(_BODY_QUEUE)
        return self._queue

    async def _feed(self, chunk: bytes | None) -> None:
        if chunk is None:
            self.body_done = True
            if self._queue is None:
                return  # nobody waits: body() sees body_done
        if not self._abandoned:
            await self._chunks().put(chunk)

    def _caller_left(self) -> None:
        self.gone.set()
        if self._pump is not None:
            self._pump.cancel()
        if self._queue is not None:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)

    def abandon_body(self) -> None:
        """Nobody will read the rest of the body: drop it as it arrives."""
        self._abandoned = True
        while self._queue is not None and not self._queue.empty():
            self._queue.get_nowait()

    async def body(self) -> AsyncIterator[bytes]:
        """The request body, chunk by chunk; it ends early if the caller leaves."""
        queue = self._chunks()
        while True:
            if queue.empty() and (self.gone.is_set() or self._abandoned or self.body_done):
                break
            chunk = await queue.get()
            if chunk is None:
                break
            yield chunk
        if not self.body_done and not self._abandoned:
            # Never a short body taken for the whole one (a cut upload must not be stored).
            raise ConnectionError("the request body was cut short: the caller left")

    # ---------------------------------------------------------------- answers
    def _completed(self) -> None:
        self.complete = True
        if self._on_complete is not None:
            self._on_complete()

    def reply(self, result: Result) -> None:
        self.answered = True
        if not self.gone.is_set():
            self.writer.write(result.encode())
            self._completed()

    async def respond(
        self,
        head: ResponseHead,
        body: bytes | None = None,
        stream: AsyncIterator[bytes] | None = None,
    ) -> bool:
        """Send an HTTP answer; False when the caller left before a stream ended (the stream
        is then stopped, so whatever produces it stops too)."""
        self.answered = True
        head.buffered = stream is None
        if self.gone.is_set():
            await _aclose(stream)
            return False
        if stream is None:
            self.writer.write(head.encode() + frames.whole_body(body))
            self._completed()
            return True
        self.writer.write(head.encode())
        # One task, cancelled by _caller_left if the caller leaves first.
        self._pump = asyncio.ensure_future(self._send_stream(stream))
        (sent,) = await asyncio.gather(self._pump, return_exceptions=True)
        if isinstance(sent, Exception):
            raise sent  # the stream failed mid-answer: _run cuts the connection
        if sent is True:
            self._completed()
        return sent is True

    async def _send_stream(self, stream: AsyncIterator[bytes]) -> bool:
        try:
            await frames.send_body(self.writer, stream)
            return True
        except ConnectionError:
            self.gone.set()
            return False
        finally:
            await _aclose(stream)


async def _aclose(stream: Any) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()


Handler = Callable[[Any, Call], Awaitable[None]]
Handlers = Mapping[int, Handler]  # frame kind -> the handler of that kind of call


class FrameServer:
    """Serves calls on an already-listening unix socket: one handler per frame kind."""

    def __init__(self, handlers: Handlers, *, clock: Callable[[], float] = time.time) -> None:
        self.handlers = handlers
        self.clock = clock
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._idle: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self._declined: set[asyncio.Task[Any]] = set()  # told NOT_TAKEN: runs nothing more
        self._closing = False

    async def start(self, sock: socket.socket) -> None:
        self._server = await asyncio.start_unix_server(self._connection, sock=sock, limit=1 << 20)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        # Not idle until its first call is answered: a connection accepted just before a drain
        # began carries a call its client has sent or is sending, and it is served (refusing
        # it would cost its caller a second attempt). Pooled connections between calls are what
        # a drain refuses (NOT_TAKEN), so their clients' next calls reach the new process.
        call: Call | None = None
        handler: asyncio.Task[Any] | None = None
        running: set[asyncio.Task[Any]] = set()  # handlers, some past their answer (waitUntil)

        def between_calls() -> bool:
            # The last answer is out (a handler that wrote its own, a WebSocket's, is done).
            return call is None or call.complete or handler is None or handler.done()

        def ended(done: asyncio.Task[Any]) -> None:
            # Only the latest call's handler: one that lingered past its answer may end
            # while a later call is in flight, which must not be taken for idle.
            if done is handler:
                self._mark_idle(task, writer)

        try:
            while True:
                try:
                    kind, payload = await frames.read_frame(reader)
                except FrameError:
                    break
                if task in self._declined:
                    break  # it was told NOT_TAKEN: a call read after that must not run
                if kind in (frames.DATA, frames.END) or not between_calls():
                    break  # a body with no call, or a second call before the first answered
                if self._closing and call is not None:
                    break  # a pooled connection's next call during a drain: NOT_TAKEN below
                self._idle.pop(task, None)
                try:
                    head = frames.decode_head(kind, payload)
                except FrameError as exc:
                    writer.write(Result(False, None, "Error", str(exc)).encode())
                    continue
                call = Call(
                    writer, isinstance(head, FetchHead), lambda: self._mark_idle(task, writer)
                )
                handler = asyncio.ensure_future(self._run(head, call))
                running.add(handler)
                handler.add_done_callback(running.discard)
                handler.add_done_callback(ended)
                if not call.body_done:
                    try:
                        async for chunk in frames.read_body(reader):
                            await call._feed(chunk)
                    except FrameError:
                        break
                    await call._feed(None)
        finally:
            self._idle.pop(task, None)
            if self._closing and between_calls():
                self._decline(task, writer)  # stopping (or out of grace) with no call running
            if call is not None:
                call._caller_left()
            if running:  # a call cut short, or work after answers: let it end
                with contextlib.suppress(BaseException):
                    await asyncio.gather(*running, return_exceptions=True)
            writer.close()
            self._connections.discard(task)
            self._declined.discard(task)

    def _mark_idle(self, task: asyncio.Task[Any], writer: asyncio.StreamWriter) -> None:
        # Once an answer is out a connection may be declined at once: no answer is cut short.
        if self._closing:
            self._decline(task, writer)
        elif task in self._connections:
            self._idle[task] = writer

    def _decline(self, task: asyncio.Task[Any], writer: asyncio.StreamWriter) -> None:
        """Tell the client the next call on this connection will not run (it may send it
        elsewhere), then close. Only between calls: never after part of an answer."""
        if task in self._declined or writer.is_closing():
            return
        self._declined.add(task)
        writer.write(frames.NOT_TAKEN_FRAME)
        writer.close()

    async def _run(self, head: Head, call: Call) -> None:
        handler = self.handlers.get(head.KIND)
        deadline = getattr(head, "deadline", None)
        try:
            if handler is None:
                await _refuse(head, call, "Error", "this worker does not serve such calls")
            elif deadline is not None and self.clock() > deadline:
                await _refuse(head, call, "TimeoutError", "the call arrived after its deadline")
            else:
                await handler(head, call)
        except Exception as exc:  # noqa: BLE001 - handlers report their own errors; end cleanly
            if call.complete:
                pass  # work after the answer failed: the connection may carry a next call
            elif call.answered:
                call.writer.close()  # mid-answer: a cut connection is all that is left
            else:
                await _refuse(head, call, type(exc).__name__, str(exc))
        else:
            if not call.answered:
                call.writer.close()
        finally:
            call.abandon_body()

    async def close(self, grace: float = 5.0) -> None:
        """Stop accepting, refuse idle connections' next calls (NOT_TAKEN: their callers
        send them again, elsewhere), let calls in flight finish (bounded)."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        for task, writer in list(self._idle.items()):
            self._decline(task, writer)
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=grace)
        for task in list(self._connections):
            task.cancel()


async def _refuse(head: Head, call: Call, name: str, message: str) -> None:
    if isinstance(head, FetchHead):
        status = 504 if name == "TimeoutError" else 500
        body = f"{name}: {message}".encode()
        headers = [(b"content-type", b"text/plain;charset=UTF-8")]
        await call.respond(ResponseHead(status, headers), body)
    else:
        call.reply(Result(False, None, name, message))
