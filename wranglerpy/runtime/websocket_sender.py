"""Writing a coupled WebSocket's frames without a task per frame: one sender for dev's ASGI
connections (``websocket_asgi``) and the edge's frame calls (``websocket_wire``).

A broadcast from a Durable Object is one ``ws.send()`` per socket inside one handler. With a
queue and a writer task per connection, each of those wakes a task, and the frames leave only
after the handler returns and the loop has scheduled a thousand tasks. ASGI servers finish a
``websocket.send`` without suspending unless the connection is paused by back-pressure, so
:class:`EagerSender` steps the ``send`` coroutine right away: the frame is framed and written
to the socket inside ``ws.send()``. Only a ``send`` that does suspend goes on in a task, and
the frames sent meanwhile queue behind it, so order is kept and one slow client never holds
up the others. The edge's worker writes each frame as a DATA frame on the router's call the
same way (a ``send`` that writes and drains only suspends when the router reads slowly).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from types import CoroutineType
from typing import Any

from wranglerpy.runtime.websocket import Item

Send = Callable[[Any], Awaitable[None]]
Encode = Callable[[Item], Any]  # an outgoing item -> what ``send`` takes (None: not sent)


def asgi_message(item: Item) -> dict[str, Any] | None:
    """The ASGI event for an outgoing item (``None`` for what does not go out)."""
    if item[0] == "message":
        data = item[1]
        if isinstance(data, str):
            return {"type": "websocket.send", "text": data}
        return {"type": "websocket.send", "bytes": data}
    if item[0] == "close":
        code = 1000 if item[1] == 1005 else item[1]
        return {"type": "websocket.close", "code": code, "reason": item[2]}
    return None


class _Resume:
    """Awaiting this finishes a coroutine that was stepped once by hand and yielded
    ``pending`` (the future it waits on), as if a task had run it from the start."""

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self._coro = coro
        self._pending = pending

    def __await__(self) -> Generator[Any, None, Any]:
        pending = self._pending
        while True:
            try:
                yield pending
            except BaseException as exc:  # noqa: BLE001 - a cancellation goes into the coroutine
                try:
                    pending = self._coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    pending = self._coro.send(None)
                except StopIteration as stop:
                    return stop.value


class EagerSender:
    """The ``transport`` of a coupled WebSocket end: ``push(item)`` writes it now, as
    ``send(encode(item))`` (ASGI events by default)."""

    def __init__(self, send: Send, encode: Encode = asgi_message) -> None:
        self._send = send
        self._encode = encode
        # Not None while frames must wait: until start(), and while a send is suspended.
        self._backlog: deque[Item] | None = deque()
        self._task: asyncio.Future[None] | None = None
        self._finished = False  # a close went out, or the connection failed
        self.closed = asyncio.Event()  # set with _finished

    def start(self) -> None:
        """The connection is accepted: write what was pushed before, then write as pushed."""
        held, self._backlog = self._backlog or deque(), None
        for item in held:
            self.push(item)

    def push(self, item: Item) -> None:
        if self._finished:
            return
        if self._backlog is not None:
            self._backlog.append(item)
            return
        message = self._encode(item)
        if message is None:
            return
        if item[0] == "close":
            self._finish_now()
        try:
            sending = self._send(message)
            if type(sending) is not CoroutineType:
                # Not a native coroutine to step (a future, say): it completes in a task.
                self._continue(sending)
                return
            pending = sending.send(None)
        except StopIteration:
            return  # written without suspending: the common case
        except Exception:  # noqa: BLE001 - the connection is gone; the reader reports the close
            self._finish_now()
            return
        self._continue(_Resume(sending, pending))

    def _continue(self, first: Awaitable[Any]) -> None:
        """A send must wait: finish it in a task, and queue what is pushed meanwhile."""
        self._backlog = deque()
        self._task = asyncio.ensure_future(self._finish(first))

    async def _finish(self, first: Awaitable[Any]) -> None:
        try:
            await first
            while self._backlog:
                item = self._backlog.popleft()
                message = self._encode(item)
                if message is None:
                    continue
                await self._send(message)
                if item[0] == "close":
                    self._finish_now()
                    break
        except Exception:  # noqa: BLE001 - as in push(): the connection is gone
            self._finish_now()
        finally:
            self._backlog = None
            self._task = None

    async def flushed(self) -> None:
        """Wait until every frame pushed so far is written (or dropped with the connection)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Give a suspended send one turn to finish, then drop what is left."""
        await asyncio.sleep(0)
        task = self._task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._finish_now()

    def _finish_now(self) -> None:
        self._finished = True
        self.closed.set()
