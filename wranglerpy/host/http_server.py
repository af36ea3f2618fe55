"""The host's public HTTP server: uvicorn, with the limits of ``HttpLimits``, on a pre-bound
listening socket. Every public port of wranglerpy is this server: ``dev``'s worker ports
(``serve``, in each worker process), the services process (``services/child.py``) and the
local edge's router (``HttpFront``, in the edge daemon's own process).

uvicorn with httptools (llhttp's C parser, RFC 9112 strict: ``Content-Length`` with
``Transfer-Encoding``, malformed chunks, control bytes in the request line are a 400) on
uvloop when it is installed, else asyncio's loop; WebSockets through uvicorn's sans-I/O
implementation over the ``websockets`` package (a core dependency). About six times
hypercorn's requests/s on this work (``bench/server_choice.py``).

uvicorn bounds none of: a connection that never sends a request, the time a request head may
take, its size, a request body that stops arriving, the number of open connections.
``GuardedHttp`` adds those with the edge's names and answers (``host/http_limits.py``: 408,
431, 503 beyond ``max_connections``). It also never answers an HTTP/1.0 client in chunks
(RFC 9112 7.1: a streamed answer ends when the connection closes), and gives the app the
request target as sent (``scope["extensions"]["wranglerpy.request"]["target"]``), which uvicorn
parses away, and ``...["closing"]()``, true once the client has left: uvicorn's ``send`` does
not fail then, and a streaming app can stop without a task watching ``receive``.

Stopping: a plain stop (SIGTERM: Ctrl-C, host gone) closes idle connections at once and lets
requests in flight finish within the drain time. A reload's handover (``HANDOVER_SIGNAL``)
stops accepting (the new process accepts on the same socket) and keeps every open keep-alive
connection until it has answered one more request on it with ``Connection: close``, or the
connection idles out, bounded by the drain time: no client sends into a connection that
closes under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from asyncio import TimerHandle
from typing import TYPE_CHECKING, Any

from uvicorn import Config, Server
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.server import ServerProtocol

from wranglerpy.host.http_limits import HttpLimits
from wranglerpy.runtime.websocket_deflate import SmallMessagesPlainFactory

if TYPE_CHECKING:
    from wranglerpy.runtime.child import StopRequest

HANDOVER_MARGIN = 1.0  # seconds of the drain time left for the final stop after a handover
REFUSAL_WAIT = 1.0  # how long a connection over the limit may take to send its request
# The scope extension (an ASGI ``extensions`` entry) with "target": the request target as
# sent, and "closing": a callable, true once the client has left.
EXTENSION = "wranglerpy.request"
_OPEN_ENDED = 1 << 62  # an HTTP/1.0 answer's length while it streams: "until the close"


class Abort(Exception):
    """Raised by an app to cut its connection without an answer (or mid-answer): uvicorn
    closes the transport, and nothing is logged."""


def writable(name: bytes, value: bytes) -> bool:
    """Whether the server can write this header in an answer: no control byte (a CR or LF
    would split the answer) nor separator in the name, no control byte in the value."""
    return not (HEADER_RE.search(name) or HEADER_VALUE_RE.search(value))


class GuardState(ServerState):
    """uvicorn's shared server state, plus the limits and the handover's progress."""

    def __init__(self, limits: HttpLimits) -> None:
        super().__init__()
        self.limits = limits
        self.handing_over = False
        self.changed = asyncio.Event()  # a connection closed

    def lost(self) -> None:
        self.changed.set()

    async def wait_settled(self) -> None:
        """Until every connection has closed."""
        while self.connections:
            self.changed.clear()
            await self.changed.wait()


def _answer(status: bytes, message: str) -> bytes:
    body = (message + "\n").encode()
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )


def _refusal(status: int, message: str) -> Any:
    """An ASGI app answering ``status`` and closing: for heads uvicorn has parsed."""
    body = (message + "\n").encode()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return app


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with dev's connection limit, head/body/idle timeouts, head
    size limit and the reload handover."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        assert isinstance(server_state, GuardState)
        self.guard = server_state
        self.limits = server_state.limits
        self.deadline: TimerHandle | None = None  # the head or body timeout, whichever runs
        self.in_head = False
        self.head_size = 0
        self.head_started = 0.0
        self.message_done = True  # the parser is between requests: the next byte starts a head
        self.refused = False
        self.half_closed = False  # the client sent its last request and shut its side down
        # The limits may change while serving: each connection reads them.
        self.timeout_keep_alive = self.limits.idle_timeout  # type: ignore[assignment]

    # ------------------------------------------------------------ connection
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            # Over the limit: a quick 503, as the edge answers; the descriptor is freed soon.
            self.connections.discard(self)
            self.refused = True
            self.deadline = self.loop.call_later(REFUSAL_WAIT, self._refuse)
            return
        # uvicorn arms its idle timer only after a response: a client that connects and
        # never speaks would hold a descriptor for ever.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)
        self.guard.lost()

    def eof_received(self) -> bool | None:  # type: ignore[override]
        """A client that shuts its side down after whole requests, before its answer began,
        still gets their answers (then the connection closes). Within a head or a body, or
        once the answer is under way (a client leaving a stream: it must be cancelled now,
        not at the next write), it has left, as uvicorn takes any end of input."""
        cycle = self.cycle
        if (
            self.message_done
            and not self.in_head
            and cycle
            and not cycle.response_started
            and not cycle.response_complete
        ):
            self.half_closed = True
            return True  # keep the transport open for the answers
        return None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.half_closed and not self.pipeline and not self.transport.is_closing():
            self.transport.close()

    def _refuse(self) -> None:
        self.deadline = None
        if not self.transport.is_closing():
            message = "Service Unavailable: too many connections (--http-limit max_connections)"
            self.transport.write(_answer(b"503 Service Unavailable", message))
            self.transport.close()

    # ---------------------------------------------------------------- input
    def data_received(self, data: bytes) -> None:
        if self.refused:
            self._cancel_deadline()
            self._refuse()  # what it sent is read: closing now does not reset the answer
            return
        if self.message_done and not self.in_head:
            self._begin_head()
        if self.in_head:
            self.head_size += len(data)
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self.in_head:
            if self.head_size > self.limits.max_head:  # a head that never ends stays bounded
                answer = self.cycle is None or self.cycle.response_complete
                status = b"431 Request Header Fields Too Large"
                self._close_with(status, "the head is too large", answer)
            elif self.deadline is None:  # armed only for a head in pieces: most come whole
                when = self.head_started + self.limits.header_timeout
                self.deadline = self.loop.call_at(when, self._head_late)
            return
        if not self.message_done:  # a body on its way (even one the worker no longer reads)
            self._set_deadline(self.limits.body_timeout, self._body_late)  # reset per chunk
        elif self.deadline is not None:
            self._cancel_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.message_done = False
        if not self.in_head:  # a pipelined request behind one still being answered
            self._begin_head()

    def on_message_complete(self) -> None:
        self.message_done = True
        super().on_message_complete()

    def on_headers_complete(self) -> None:
        self.in_head = False
        request = {"target": self.url, "closing": self.transport.is_closing}
        self.scope["extensions"] = {EXTENSION: request}  # type: ignore[dict-item]
        refusal = None
        if self.head_size > self.limits.max_head:
            size = len(self.url) + sum(len(k) + len(v) + 4 for k, v in self.headers)
            if size > self.limits.max_head:
                refusal = _refusal(431, "Request Header Fields Too Large")
        if refusal is not None:
            app, self.app = self.app, refusal
            try:
                super().on_headers_complete()
            finally:
                self.app = app
        else:
            super().on_headers_complete()
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return  # an upgrade: the WebSocket protocol takes the connection
        if self.guard.handing_over:
            cycle.keep_alive = False  # the answer says `Connection: close`
        if self.expect_100_continue:
            _close_unless_continued(cycle)
        if self.scope["http_version"] == "1.0":
            _never_chunked(cycle)
        else:
            cycle.transport = OneWrite(self.transport, cycle)  # type: ignore[assignment]

    def _begin_head(self) -> None:
        self.in_head = True
        self.head_size = 0
        self.head_started = self.loop.time()
        if self.deadline is not None:
            self._cancel_deadline()

    # --------------------------------------------------------------- timers
    def _set_deadline(self, seconds: float, callback: Any) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        self.deadline = self.loop.call_later(seconds, callback)

    def _cancel_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _head_late(self) -> None:
        self.deadline = None
        cycle = self.cycle  # the previous request's, if any
        answer = cycle is None or cycle.response_complete
        self._close_with(b"408 Request Timeout", "the request head took too long", answer)

    def _body_late(self) -> None:
        self.deadline = None
        if self.flow.read_paused:  # the worker is not reading: not the client's fault
            self._set_deadline(self.limits.body_timeout, self._body_late)
            return
        answer = self.cycle is None or not self.cycle.response_started
        self._close_with(b"408 Request Timeout", "the request body stopped arriving", answer)

    def _close_with(self, status: bytes, message: str, answer: bool = True) -> None:
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if answer:
            self.transport.write(_answer(status, message))
        if cycle is not None and not cycle.response_complete:
            # The worker reading the body sees it cut short (a ConnectionError), never whole.
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    # ------------------------------------------------------------- stopping
    def hand_over(self) -> None:
        """A reload: the answer in preparation says ``Connection: close``; an idle connection
        stays open for one more request (answered the same way) or until it idles out."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            cycle.keep_alive = False


def _close_unless_continued(cycle: RequestResponseCycle) -> None:
    """A client that sent ``Expect: 100-continue`` and got its answer before ``100 Continue``
    may or may not send its body: what follows on the connection cannot be parsed, so the
    answer closes it (uvicorn would read the next request as that body: a 400)."""
    send = cycle.send

    async def send_or_close(message: Any) -> None:
        if message["type"] == "http.response.start" and cycle.waiting_for_100_continue:
            cycle.keep_alive = False
        await send(message)

    cycle.send = send_or_close  # type: ignore[method-assign]


class OneWrite:
    """A request's view of its connection: the head of an answer with a Content-Length waits
    for the body's first bytes, so a buffered answer leaves in one write (one system call,
    and a small answer in one TCP segment) rather than two."""

    __slots__ = ("transport", "cycle", "held", "head_seen")

    def __init__(self, transport: asyncio.Transport, cycle: RequestResponseCycle) -> None:
        self.transport = transport
        self.cycle = cycle
        self.held = b""
        self.head_seen = False

    def write(self, data: bytes) -> None:
        if self.held:
            data, self.held = self.held + data, b""
        elif not self.head_seen and self.cycle.response_started:
            self.head_seen = True  # uvicorn writes the head once the answer has started
            cycle = self.cycle
            if cycle.chunked_encoding is False and cycle.expected_content_length > 0:
                if cycle.scope["method"] != "HEAD":  # a HEAD answer has no body to wait for
                    self.held = data
                    return
        self.transport.write(data)

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def close(self) -> None:
        if self.held:  # an app that failed after the head: the client sees a cut answer
            self.transport.write(self.held)
            self.held = b""
        self.transport.close()


def _never_chunked(cycle: RequestResponseCycle) -> None:
    """An answer of unknown length to an HTTP/1.0 client, which knows no chunked coding
    (RFC 9112 7.1): its bytes as they come, and the connection's close ends it (uvicorn
    would chunk it)."""
    send = cycle.send
    open_ended = False

    async def send_plain(message: Any) -> None:
        nonlocal open_ended
        if message["type"] == "http.response.start":
            names = {name.lower() for name, _ in message.get("headers", ())}
            open_ended = (
                b"content-length" not in names
                and b"transfer-encoding" not in names
                and cycle.scope["method"] != "HEAD"
                and message["status"] not in (204, 304)
            )
            if open_ended:
                cycle.chunked_encoding = False
                cycle.expected_content_length = _OPEN_ENDED
                cycle.keep_alive = False
        elif open_ended and not message.get("more_body", False):
            cycle.expected_content_length = len(message.get("body", b""))  # ends at 0
        await send(message)

    cycle.send = send_plain  # type: ignore[method-assign]


class LeanWebSockets(WebSocketsSansIOProtocol):
    """uvicorn's WebSockets, with permessage-deflate without context takeover and a dropped
    connection reported as 1006, as Workers report it."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = server_state if isinstance(server_state, GuardState) else None
        if config.ws_per_message_deflate:
            # Idle sockets cost memory mostly in their compressor (~75 KB each, kept between
            # messages for context takeover). Without takeover it is freed after every
            # message, so 1,000 hibernated sockets stay small; worker code cannot tell.
            deflate = SmallMessagesPlainFactory(  # small messages plain: websocket_deflate.py
                server_no_context_takeover=True,
                client_no_context_takeover=True,
                server_max_window_bits=12,
                client_max_window_bits=12,
                compress_settings={"memLevel": 5},
            )
            self.conn = ServerProtocol(
                extensions=[deflate],
                max_size=config.ws_max_size,
                logger=logging.getLogger("uvicorn.error"),
            )

    def connection_lost(self, exc: Exception | None) -> None:
        if self.handshake_complete and not self.disconnected and self.conn.close_rcvd is None:
            # No close frame from the peer: abnormal closure (uvicorn would say 1005).
            self.queue.put_nowait({"type": "websocket.disconnect", "code": 1006})
        super().connection_lost(exc)
        if self.guard is not None:
            self.guard.lost()


class _QuietCancel(logging.Filter):
    """A request still running when the drain time ends is cancelled: that is the stop doing
    its job, not an error ("Cancel 1 running task(s)", then "Exception in ASGI application"
    with a traceback) in the user's log. Nor is an app's ``Abort``."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, (asyncio.CancelledError, Abort)):
            return False
        return not str(record.msg).startswith("Cancel %s running task")


_QUIET_CANCEL = _QuietCancel()


def make_config(
    app: Any, limits: HttpLimits, drain_seconds: float, lifespan: str = "auto"
) -> Config:
    return Config(
        app,
        http=GuardedHttp,
        ws=LeanWebSockets,
        lifespan=lifespan,  # type: ignore[arg-type]
        log_config=None,  # the worker's log capture stays in place
        access_log=False,
        server_header=False,
        proxy_headers=False,  # X-Forwarded-* from a client must not change the request's URL
        timeout_keep_alive=limits.idle_timeout,  # type: ignore[arg-type]
        timeout_graceful_shutdown=drain_seconds,  # type: ignore[arg-type]
        ws_ping_interval=None,  # as before: no pings the worker did not send
    )


def _server(
    app: Any, limits: HttpLimits, drain_seconds: float, lifespan: str = "auto"
) -> tuple[Server, GuardState]:
    logging.getLogger("uvicorn.error").addFilter(_QUIET_CANCEL)  # once: filters are a set
    # Errors only: uvicorn warns once per malformed request, and a hostile client sending
    # them must not fill a log (the edge's edge.log, dev's terminal).
    logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
    config = make_config(app, limits, drain_seconds, lifespan)
    config.load()
    server = Server(config)
    state = GuardState(limits)
    server.server_state = state
    server.lifespan = config.lifespan_class(config)
    return server, state


def _no_delay(listener: socket.socket) -> None:
    if listener.family in (socket.AF_INET, socket.AF_INET6):
        # Accepted sockets inherit it: a response written in two parts (head, then body)
        # must not wait on the client's delayed ACK (~40 ms per request).
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class HttpFront:
    """An ASGI app (no lifespan) served on a listening socket of this process, in its event
    loop: the local edge's public port. Its ``limits`` may change while it serves; each new
    connection reads them."""

    def __init__(self, app: Any, limits: HttpLimits) -> None:
        self.server, self.state = _server(app, limits, 0.0, lifespan="off")
        self._ticker: asyncio.Future[None] | None = None

    @property
    def limits(self) -> HttpLimits:
        return self.state.limits

    @limits.setter
    def limits(self, limits: HttpLimits) -> None:
        self.state.limits = limits

    async def start(self, listener: socket.socket) -> None:
        _no_delay(listener)
        await self.server.startup(sockets=[listener])
        self._ticker = asyncio.ensure_future(_tick(self.server))

    async def close(self) -> None:
        """Stop accepting and close every connection; requests in flight are cancelled."""
        if self._ticker is None:
            return
        self._ticker.cancel()
        self._ticker = None
        await self.server.shutdown()


async def serve(
    app: Any, fd: int, stopping: StopRequest, limits: HttpLimits, drain_seconds: float
) -> None:
    """Serve HTTP on the inherited listening socket ``fd`` until ``stopping`` says so."""
    loop = asyncio.get_running_loop()
    listener = socket.socket(fileno=fd)
    _no_delay(listener)
    server, state = _server(app, limits, drain_seconds)
    await server.startup(sockets=[listener])
    ticker = asyncio.ensure_future(_tick(server))
    try:
        await stopping.requested.wait()
        started = loop.time()
        for listening in server.servers:
            listening.close()  # new connections reach the new process, on the same socket
        if stopping.handover:
            await _hand_over(state, stopping, max(0.0, drain_seconds - HANDOVER_MARGIN))
        else:
            stopping.accepting_stopped.set()
        left = drain_seconds - (loop.time() - started) - HANDOVER_MARGIN / 2
        server.config.timeout_graceful_shutdown = max(0.5, left)  # type: ignore[assignment]
        await server.shutdown()
    finally:
        ticker.cancel()


async def _hand_over(state: GuardState, stopping: StopRequest, bound: float) -> None:
    state.handing_over = True
    for connection in list(state.connections):
        if isinstance(connection, GuardedHttp):
            connection.hand_over()
        else:
            connection.shutdown()  # a WebSocket: 1012 (service restart); its client reconnects
    stopping.accepting_stopped.set()
    settled = asyncio.ensure_future(state.wait_settled())
    immediate = asyncio.ensure_future(stopping.immediate.wait())
    try:
        await asyncio.wait({settled, immediate}, timeout=bound, return_when="FIRST_COMPLETED")
    finally:
        for task in (settled, immediate):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(settled, immediate, return_exceptions=True)


async def _tick(server: Server) -> None:
    """The ``Date`` header, refreshed each second (uvicorn's main loop, without its polling)."""
    while True:
        await server.on_tick(0)
        await asyncio.sleep(1.0)
