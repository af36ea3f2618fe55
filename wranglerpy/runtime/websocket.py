"""``WebSocket`` and ``WebSocketPair`` for worker code, with workerd's rules (``api/web-socket.c++``).

A pair is two ends wired to each other. The client end is handed to the runtime in
``Response(None, status=101, web_socket=client)``; the runtime then *couples* it to the real
connection (``runtime/websocket_asgi.py``): frames from the network arrive at the server end,
and what the server end sends goes out on the network. An end accepted with ``accept()`` gets
its events through listeners; one accepted with ``ctx.acceptWebSocket()`` (hibernation) gets
them through the Durable Object's handlers instead (``hibernation_sink``).
"""

from __future__ import annotations

import asyncio
import inspect
import marshal
import traceback
from collections.abc import Callable
from typing import Any

from wranglerpy.runtime import jsglobals

CONNECTING, OPEN, CLOSING, CLOSED = 0, 1, 2, 3
MAX_ATTACHMENT_SIZE = 16 * 1024
# An item travelling between ends: ("message", str | bytes) or ("close", code, reason, clean).
Item = tuple[Any, ...]


class InvalidAccessError(Exception):
    """DOMException ``InvalidAccessError``."""


class DOMSyntaxError(Exception):
    """DOMException ``SyntaxError``."""


DOMSyntaxError.__name__ = "SyntaxError"


class _Event:
    def __init__(self, type: str, **fields: Any) -> None:
        self.type = type
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        return f"<{self.type} event {self.__dict__}>"


def message_data(data: str | bytes) -> Any:
    """What ``event.data`` is: a string, or an ArrayBuffer for binary frames."""
    return data if isinstance(data, str) else jsglobals.ArrayBuffer(data)


_tasks: set[asyncio.Task[Any]] = set()
# Set by the Durable Object runtime: a socket accepted inside an object gets its output gate
# and keeps the object in memory while open.
accept_hook: Callable[[WebSocket], None] | None = None


def run_handler(handler: Any, *args: Any) -> None:
    """Call a listener (sync or async); its failure is printed, never raised into the sender."""
    try:
        result = handler(*args)
    except Exception:  # noqa: BLE001 - a listener's error must not break the connection
        traceback.print_exc()
        return
    if inspect.isawaitable(result):
        task = asyncio.ensure_future(result)
        _tasks.add(task)
        task.add_done_callback(_finished)


def _finished(task: asyncio.Task[Any]) -> None:
    _tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        error = task.exception()
        assert error is not None
        traceback.print_exception(type(error), error, error.__traceback__)


class WebSocket:
    """One end of a WebSocket, with the browser/Workers API."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url
        self.protocol = ""
        self.extensions = ""
        self.readyState = OPEN
        self._state = "awaiting"  # awaiting | accepted | hibernatable | released | connecting
        self._peer: WebSocket | None = None
        self._transport: Callable[[Item], None] | None = None
        self._pending: list[Item] = []
        self._listeners: dict[str, list[Any]] = {}
        self._closed_outgoing = False
        self._closed_incoming = False
        self._attachment: bytes | None = None
        self.onmessage: Any = None
        self.onclose: Any = None
        self.onerror: Any = None
        self.onopen: Any = None
        # Set by the Durable Object runtime: flush the object's storage before a frame leaves.
        self.output_gate: Callable[[], None] | None = None
        self.hibernation_sink: Callable[[WebSocket, Item], None] | None = None
        self.tags: tuple[str, ...] = ()
        self.auto_response_timestamp: Any = None
        self._outbound = False  # made by ``new WebSocket(url)``: connected by the runtime

    # --- the Workers API ---------------------------------------------------------------

    @staticmethod
    def new(url: str, protocols: Any = None) -> WebSocket:
        """``new WebSocket(url)``: an outbound client connection (``js.WebSocket.new``)."""
        from wranglerpy.runtime.websocket_client import connect_outbound

        return connect_outbound(url, protocols)

    def accept(self, options: Any = None) -> None:
        if self._outbound:
            raise TypeError(
                "Websockets obtained from the 'new WebSocket()' constructor cannot call accept"
            )
        if self._state == "released":
            raise TypeError("Can't accept() WebSocket that was already used in a response.")
        if self._state == "hibernatable":
            raise TypeError("Can't accept() WebSocket after enabling hibernation.")
        if self._state == "accepted":
            return
        self._state = "accepted"
        if accept_hook is not None:
            accept_hook(self)
        self._drain_pending()

    def accept_hibernatable(
        self, sink: Callable[[WebSocket, Item], None], tags: tuple[str, ...]
    ) -> None:
        """``ctx.acceptWebSocket(ws, tags)``: events go to the object's handlers."""
        self._state = "hibernatable"
        self.hibernation_sink = sink
        self.tags = tags
        self._drain_pending()

    def send(self, message: Any) -> None:
        if self._closed_outgoing:
            raise TypeError("Can't call WebSocket send() after close().")
        if self._state == "released" or self.readyState == CLOSED:
            return  # the spec: silently ignored once the connection is gone
        if self._state not in ("accepted", "hibernatable"):
            raise TypeError(
                "You must call one of accept() or state.acceptWebSocket() on this WebSocket "
                "before sending messages."
            )
        if isinstance(message, str):
            data: str | bytes = message
        elif isinstance(message, (bytes, bytearray, memoryview)):
            data = bytes(message)
        elif hasattr(message, "to_bytes"):
            data = message.to_bytes()
        else:
            data = str(message)
        self._out(("message", data))

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if code is not None and (not 1000 <= code < 5000 or code in (1004, 1005, 1006, 1015)):
            raise InvalidAccessError(f"Invalid WebSocket close code: {code}.")
        if reason is not None and len(reason.encode()) > 123:
            raise DOMSyntaxError(
                "WebSocket close reason must not be longer than 123 bytes when UTF-8 encoded."
            )
        if reason is not None and code is None:
            raise InvalidAccessError(
                "If you specify a WebSocket close reason, you must also specify a code."
            )
        if self._closed_outgoing or self._state == "released":
            return
        if self._state not in ("accepted", "hibernatable"):
            raise TypeError(
                "You must call one of accept() or state.acceptWebSocket() on this WebSocket "
                "before sending messages."
            )
        self._closed_outgoing = True
        # Closing after the peer's close frame completes the handshake.
        self.readyState = CLOSED if self._closed_incoming else CLOSING
        self._out(("close", 1005 if code is None else code, reason or "", True))

    def addEventListener(self, type: str, handler: Any, options: Any = None) -> None:  # noqa: N802
        self._listeners.setdefault(type, []).append(handler)

    def removeEventListener(self, type: str, handler: Any, options: Any = None) -> None:  # noqa: N802
        handlers = self._listeners.get(type, [])
        if handler in handlers:
            handlers.remove(handler)

    def serializeAttachment(self, value: Any) -> None:  # noqa: N802
        from wranglerpy.bindings.durable_objects.clone import encode

        data = encode(value) if value is not None else marshal.dumps(None)
        if len(data) > MAX_ATTACHMENT_SIZE:
            raise Exception(  # noqa: TRY002 - JS's plain Error
                f"A WebSocket 'attachment' cannot be larger than {MAX_ATTACHMENT_SIZE} bytes."
                f"'attachment' was {len(data)} bytes."
            )
        self._attachment = data

    def deserializeAttachment(self) -> Any:  # noqa: N802
        from wranglerpy.bindings.durable_objects.clone import decode

        return None if self._attachment is None else decode(self._attachment)

    # --- wiring ----------------------------------------------------------------------

    def _out(self, item: Item) -> None:
        if self.output_gate is not None:
            self.output_gate()
        peer = self._peer
        if peer is None:
            if self._transport is not None:
                self._transport(item)  # an outbound client socket writes to its connection
            return
        if peer._transport is not None:
            peer._transport(item)
        else:
            peer._incoming(item)

    def couple(self, transport: Callable[[Item], None]) -> None:
        """Hand this (client) end to a real connection: what the peer sends is written with
        ``transport``; what the connection reads goes in through :meth:`from_network`."""
        if self._outbound:
            raise TypeError(
                "Can't return WebSocket in a Response if it was created with `new WebSocket()`"
            )
        if self._state == "released":
            raise TypeError("Can't return WebSocket that was already used in a response.")
        if self._state == "hibernatable":
            raise TypeError("Can't return WebSocket in a Response after calling acceptWebSocket().")
        if self._state == "accepted":
            raise TypeError("Can't return WebSocket in a Response after calling accept().")
        self._state = "released"
        self._transport = transport
        if self._pending:  # the server end sent before the connection was up
            pending, self._pending = self._pending, []
            for item in pending:
                transport(item)

    def from_network(self, item: Item) -> None:
        """A frame read from the connection this end is coupled to (or owns)."""
        if self._peer is not None:
            self._peer._incoming(item)
        else:
            self._incoming(item)

    def _incoming(self, item: Item) -> None:
        if item[0] == "close":
            self._closed_incoming = True
            self.readyState = CLOSED if self._closed_outgoing or item[1] == 1006 else CLOSING
        if self._state == "hibernatable" and self.hibernation_sink is not None:
            self.hibernation_sink(self, item)
        elif self._state == "accepted" or self._outbound:
            self._dispatch(item)
        elif self._state == "released" and self._transport is not None:
            self._transport(item)
        else:
            self._pending.append(item)

    def _drain_pending(self) -> None:
        pending, self._pending = self._pending, []
        for item in pending:
            self._incoming(item)

    def _dispatch(self, item: Item) -> None:
        if item[0] == "message":
            event = _Event("message", data=message_data(item[1]))
        elif item[0] == "close":
            event = _Event("close", code=item[1], reason=item[2], wasClean=item[3])
        elif item[0] == "open":
            self.readyState = OPEN
            event = _Event("open")
        else:
            self.readyState = CLOSED
            event = _Event("error", error=item[1], message=str(item[1]))
        self.dispatch_event(event)

    def dispatch_event(self, event: _Event) -> None:
        handlers = list(self._listeners.get(event.type, []))
        prop = getattr(self, f"on{event.type}", None)
        if prop is not None:
            handlers.append(prop)
        for handler in handlers:
            run_handler(handler, event)

    @property
    def is_accepted(self) -> bool:
        return self._state in ("accepted", "hibernatable")

    @property
    def peer_awaiting_coupling(self) -> bool:
        return self._peer is not None and self._peer._state == "awaiting"

    def __repr__(self) -> str:
        return f"<WebSocket {self._state} readyState={self.readyState}>"


class WebSocketPair:
    """``new WebSocketPair()``: ``client, server = WebSocketPair.new().object_values()``."""

    def __init__(self) -> None:
        self.client = WebSocket()
        self.server = WebSocket()
        self.client._peer = self.server
        self.server._peer = self.client

    @staticmethod
    def new() -> WebSocketPair:
        return WebSocketPair()

    def object_values(self) -> tuple[WebSocket, WebSocket]:
        return self.client, self.server

    def __iter__(self) -> Any:
        return iter((self.client, self.server))

    def __getitem__(self, index: int | str) -> WebSocket:
        return (self.client, self.server)[int(index)]


class WebSocketRequestResponsePair:
    """``new WebSocketRequestResponsePair(request, response)`` for ``setWebSocketAutoResponse``."""

    def __init__(self, request: str, response: str) -> None:
        self.request = request
        self.response = response

    @staticmethod
    def new(request: str, response: str) -> WebSocketRequestResponsePair:
        return WebSocketRequestResponsePair(request, response)
