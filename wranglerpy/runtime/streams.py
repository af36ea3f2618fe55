"""WHATWG streams as Python Workers use them through ``js``: ``ReadableStream``,
``TransformStream`` and ``WritableStream``, with Pyodide's calling conventions.

``ReadableStream.new(pull=..., start=..., cancel=...)`` takes the underlying source as keyword
arguments (Pyodide turns them into the init object) or as one object. Response bodies must be
bytes in JS terms: a chunk that is not an ``ArrayBuffer``/``Uint8Array`` (``to_js(b"...")``,
``TextEncoder.new().encode(...)``) fails the response with workerd's ``TypeError``, as a plain
Python ``bytes`` or ``str`` chunk does on Cloudflare.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from wranglerpy.runtime.buffers import JsType, is_js_buffer

NOT_BYTES = "This ReadableStream did not return bytes."
_DONE = object()


def _member(source: Any, name: str) -> Any:
    if source is None:
        return None
    if isinstance(source, dict):
        return source.get(name)
    return getattr(source, name, None)


async def _settle(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


class ReadResult(JsType):
    """``{done, value}`` from ``reader.read()``."""

    def __init__(self, done: bool, value: Any = None) -> None:
        self.done = done
        self.value = value


class ReadableStreamDefaultController(JsType):
    js_name = "ReadableStreamDefaultController"

    def __init__(self, stream: ReadableStream) -> None:
        self._stream = stream

    @property
    def desiredSize(self) -> int:  # noqa: N802 - the JS name
        return max(0, 1 - len(self._stream._queue))

    def enqueue(self, chunk: Any = None) -> None:
        if self._stream._closed:
            raise TypeError("Cannot enqueue to a closed ReadableStream.")
        self._stream._queue.append(chunk)
        self._stream._wake()

    def close(self) -> None:
        self._stream._closed = True
        self._stream._wake()

    def error(self, reason: Any = None) -> None:
        self._stream._error = reason if reason is not None else TypeError("stream errored")
        self._stream._closed = True
        self._stream._wake()


class ReadableStream(JsType):
    """A readable stream: from an underlying source (``start``/``pull``/``cancel``), or over
    an async iterable (the runtime's bodies). Iterating it yields its chunks; it can be read
    once (``locked`` after the first read)."""

    js_name = "ReadableStream"

    def __init__(self, source: Any = None, *, iterable: AsyncIterable[Any] | None = None) -> None:
        self._source = source
        self._iterator: AsyncIterator[Any] | None = (
            iterable.__aiter__() if iterable is not None else None
        )
        # Chunks from worker code must be JS buffers; the runtime's own bodies are bytes.
        self._strict = iterable is None
        self._queue: deque[Any] = deque()
        self._closed = False
        self._error: Any = None
        self._waiter: asyncio.Future[None] | None = None
        self._started: asyncio.Task[Any] | None = None
        self._pulling = False
        self.locked = False
        self._controller = ReadableStreamDefaultController(self)
        start = _member(source, "start")
        if start is not None:
            result = start(self._controller)
            if inspect.isawaitable(result):
                self._started = asyncio.ensure_future(result)

    @staticmethod
    def new(source: Any = None, strategy: Any = None, **init: Any) -> ReadableStream:
        return ReadableStream(dict(init) if init else source)

    @staticmethod
    def from_(iterable: Any) -> ReadableStream:
        """``ReadableStream.from(asyncIterable)`` (``from_`` in Python, as Pyodide spells it)."""
        if not hasattr(iterable, "__aiter__"):
            items = list(iterable)

            async def replay() -> AsyncIterator[Any]:
                for item in items:
                    yield item

            iterable = replay()
        stream = ReadableStream(iterable=iterable)
        stream._strict = True
        return stream

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _next(self) -> Any:
        """The next chunk, or ``_DONE``."""
        if self._iterator is not None:
            try:
                return await self._iterator.__anext__()
            except StopAsyncIteration:
                return _DONE
        if self._started is not None:
            await self._started
            self._started = None
        pull = _member(self._source, "pull")
        pulled = False
        while not self._queue:
            if self._error is not None:
                raise _as_exception(self._error)
            if self._closed:
                return _DONE
            if pull is not None and not self._pulling and not pulled:
                # One pull per read, as the standard does; a pull that enqueues nothing
                # leaves the read waiting for a later enqueue (no busy loop).
                self._pulling = True
                try:
                    await _settle(pull(self._controller))
                finally:
                    self._pulling = False
                pulled = True
                continue
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
            pulled = False
        return self._queue.popleft()

    def __aiter__(self) -> ReadableStream:
        self.locked = True
        return self

    async def __anext__(self) -> Any:
        self.locked = True
        chunk = await self._next()
        if chunk is _DONE:
            raise StopAsyncIteration
        return chunk

    async def read_bytes(self) -> AsyncIterator[bytes]:
        """The chunks as a response body reads them: buffers only, as workerd requires."""
        async for chunk in self:
            if self._strict and not is_js_buffer(chunk):
                raise TypeError(NOT_BYTES)
            yield bytes(chunk)

    async def aclose(self) -> None:
        await self.cancel()

    async def cancel(self, reason: Any = None) -> None:
        self._closed = True
        self._queue.clear()
        if self._iterator is not None:
            aclose = getattr(self._iterator, "aclose", None)
            if aclose is not None:
                await aclose()
            return
        cancel = _member(self._source, "cancel")
        if cancel is not None:
            await _settle(cancel(reason))

    def getReader(self, options: Any = None) -> ReadableStreamDefaultReader:  # noqa: N802
        if self.locked:
            raise TypeError("This ReadableStream is currently locked to a reader.")
        self.locked = True
        return ReadableStreamDefaultReader(self)

    def pipeThrough(self, transform: Any, options: Any = None) -> Any:  # noqa: N802
        writer = transform.writable.getWriter()

        async def pump() -> None:
            try:
                async for chunk in self:
                    await writer.write(chunk)
                await writer.close()
            except Exception as exc:  # noqa: BLE001 - the error travels down the pipe
                await writer.abort(exc)

        asyncio.ensure_future(pump())
        return transform.readable

    async def pipeTo(self, destination: Any, options: Any = None) -> None:  # noqa: N802
        writer = destination.getWriter()
        async for chunk in self:
            await writer.write(chunk)
        await writer.close()

    def tee(self) -> list[ReadableStream]:
        queues: list[asyncio.Queue[Any]] = [asyncio.Queue(), asyncio.Queue()]

        async def fill() -> None:
            try:
                async for chunk in self:
                    for q in queues:
                        q.put_nowait(chunk)
            finally:
                for q in queues:
                    q.put_nowait(_DONE)

        task = asyncio.ensure_future(fill())

        async def branch(q: asyncio.Queue[Any]) -> AsyncIterator[Any]:
            while (item := await q.get()) is not _DONE:
                yield item
            await task

        return [ReadableStream(iterable=branch(q)) for q in queues]


class ReadableStreamDefaultReader(JsType):
    js_name = "ReadableStreamDefaultReader"

    def __init__(self, stream: ReadableStream) -> None:
        self._stream = stream

    async def read(self) -> ReadResult:
        chunk = await self._stream._next()
        if chunk is _DONE:
            return ReadResult(True, None)
        return ReadResult(False, chunk)

    def releaseLock(self) -> None:  # noqa: N802 - the JS name
        self._stream.locked = False

    async def cancel(self, reason: Any = None) -> None:
        await self._stream.cancel(reason)


class WritableStreamDefaultWriter(JsType):
    js_name = "WritableStreamDefaultWriter"

    def __init__(self, stream: WritableStream) -> None:
        self._stream = stream

    @property
    def desiredSize(self) -> int:  # noqa: N802 - the JS name
        return 1

    @property
    def ready(self) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def write(self, chunk: Any = None) -> None:
        await self._stream._write(chunk)

    async def close(self) -> None:
        await self._stream._close()

    async def abort(self, reason: Any = None) -> None:
        await self._stream._abort(reason)

    def releaseLock(self) -> None:  # noqa: N802 - the JS name
        self._stream.locked = False


class WritableStream(JsType):
    """A writable stream over an underlying sink (``write``/``close``/``abort``)."""

    js_name = "WritableStream"

    def __init__(self, sink: Any = None) -> None:
        self._sink = sink
        self.locked = False

    @staticmethod
    def new(sink: Any = None, strategy: Any = None, **init: Any) -> WritableStream:
        return WritableStream(dict(init) if init else sink)

    def getWriter(self) -> WritableStreamDefaultWriter:  # noqa: N802 - the JS name
        if self.locked:
            raise TypeError("This WritableStream is currently locked to a writer.")
        self.locked = True
        return WritableStreamDefaultWriter(self)

    async def _write(self, chunk: Any) -> None:
        write = _member(self._sink, "write")
        if write is not None:
            await _settle(write(chunk))

    async def _close(self) -> None:
        close = _member(self._sink, "close")
        if close is not None:
            await _settle(close())

    async def _abort(self, reason: Any) -> None:
        abort = _member(self._sink, "abort")
        if abort is not None:
            await _settle(abort(reason))


class TransformStream(JsType):
    """``TransformStream.new()``: what is written to ``writable`` comes out of ``readable``.

    With a transformer, ``transform(chunk, controller)`` and ``flush(controller)`` run as in
    JS. A write waits until the reader has taken the chunk (the standard's backpressure), so a
    producer never runs ahead of the client.
    """

    js_name = "TransformStream"

    def __init__(self, transformer: Any = None) -> None:
        self._transformer = transformer
        self._slot: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)
        self.readable = ReadableStream({"pull": self._pull, "cancel": self._cancel})
        self.writable = WritableStream(
            {"write": self._write, "close": self._close, "abort": self._abort}
        )
        self._cancelled = False

    @staticmethod
    def new(transformer: Any = None, *strategies: Any, **init: Any) -> TransformStream:
        return TransformStream(dict(init) if init else transformer)

    async def _pull(self, controller: ReadableStreamDefaultController) -> None:
        item = await self._slot.get()
        if isinstance(item, tuple) and item and item[0] is _DONE:
            if item[1] is not None:
                controller.error(item[1])
            else:
                controller.close()
            return
        controller.enqueue(item)

    async def _cancel(self, reason: Any = None) -> None:
        # The reader went away: free a writer blocked on the slot; its next write fails.
        self._cancelled = True
        while not self._slot.empty():
            self._slot.get_nowait()

    async def _write(self, chunk: Any) -> None:
        if self._cancelled:
            raise TypeError("This WritableStream has been closed: the reader cancelled it.")
        transform = _member(self._transformer, "transform")
        if transform is None:
            await self._slot.put(chunk)
            return
        sink = _Enqueuer(self)
        await _settle(transform(chunk, sink))
        await sink.flush()

    async def _close(self) -> None:
        if self._cancelled:
            return
        flush = _member(self._transformer, "flush")
        if flush is not None:
            sink = _Enqueuer(self)
            await _settle(flush(sink))
            await sink.flush()
        await self._slot.put((_DONE, None))

    async def _abort(self, reason: Any) -> None:
        if not self._cancelled:
            await self._slot.put((_DONE, _as_exception(reason)))


class _Enqueuer(JsType):
    """The controller a transformer's ``transform``/``flush`` gets."""

    js_name = "TransformStreamDefaultController"

    def __init__(self, stream: TransformStream) -> None:
        self._stream = stream
        self._pending: list[Any] = []

    def enqueue(self, chunk: Any = None) -> None:
        self._pending.append(chunk)

    def error(self, reason: Any = None) -> None:
        self._pending.append((_DONE, _as_exception(reason)))

    def terminate(self) -> None:
        self._pending.append((_DONE, None))

    async def flush(self) -> None:
        for item in self._pending:
            await self._stream._slot.put(item)
        self._pending.clear()


def _as_exception(reason: Any) -> BaseException:
    if isinstance(reason, BaseException):
        return reason
    return TypeError(str(reason))
