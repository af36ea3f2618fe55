"""The edge's public port: an HTTP/1.1 server (h11) that hands each request to a worker.

h11 parses every request strictly (RFC 9112); anything ambiguous is answered 400 and the
connection closed. The router picks the worker from the Host header and path
(``route_for``: the one routing decision) and relays the request as a ``FETCH`` frame (see
``wranglerpy.wire``); the answer goes back with Content-Length when the worker buffered it,
chunk by chunk when it streams, so SSE passes through as it is produced. Connections are
kept alive on both sides, within ``HttpLimits`` (timeouts, a connection limit, 413 above
100 MB as on Cloudflare).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import urlsplit

import h11

from wranglerpy.deploy.routes import RouteTable
from wranglerpy.host.http_limits import HttpLimits
from wranglerpy.host.pool import WorkerPool
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import FetchHead, FrameError

BUFFER_LIMIT = 1 << 20  # request bodies up to this size are sent in one piece (and retryable)
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
        "proxy-authorization",
        "host",
        "content-length",
        "expect",  # answered here; the worker gets the body as it is
        # Set by the edge itself, as Cloudflare does: a client cannot claim another address.
        "cf-connecting-ip",
        "x-forwarded-proto",
    }
)
# Cloudflare answers its own /cdn-cgi/ paths; none reaches a worker (nor its scheduled handler).
RESERVED_PREFIX = "/cdn-cgi/"
# RFC 9110 Host: a reg-name or IPv4 address, or a bracketed IPv6 literal; an optional port.
_HOST = re.compile(r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*)|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_REASONS = {s.value: s.phrase for s in HTTPStatus}


class HttpError(Exception):
    """A request answered by the edge itself with ``status``; the connection is closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Closed(Exception):
    """The client left, or stayed silent past a timeout: close without an answer."""


class Target(Protocol):
    """What the router needs of a deployed worker (a Fleet satisfies it)."""

    client: FrameClient
    pool: WorkerPool  # counts the requests in flight, so a replaced version drains them
    client_delay: float


Lookup = Callable[[str], "Target | None"]  # worker name -> its live version


class _Exchange:
    """One client connection: h11's state, the socket, and the limits that bound them."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limits: HttpLimits
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.limits = limits
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_head)
        self.body_error: HttpError | None = None  # why a streamed request body stopped

    async def _receive(self, timeout: float, late: HttpError | None = None) -> None:
        """Feed h11 what arrives; past ``timeout``, ``late`` is raised (else just close)."""
        # A timer that cancels this read (as asyncio.timeout does on 3.11+): wait_for would
        # cost a task per read.
        task = asyncio.current_task()
        assert task is not None
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        timer = asyncio.get_running_loop().call_later(timeout, expire)
        try:
            data = await self.reader.read(65536)
        except asyncio.CancelledError:
            if not expired:
                raise
            if hasattr(task, "uncancel"):  # 3.11+: this cancel was ours, not the caller's
                task.uncancel()
            raise late or _Closed() from None
        except ConnectionError:
            raise _Closed from None
        finally:
            timer.cancel()
        self.conn.receive_data(data)

    async def next_request(self) -> h11.Request | None:
        """The next request head; None when the client closed between requests."""
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                if deadline is None:
                    if self.conn.trailing_data[0]:
                        deadline = loop.time() + self.limits.header_timeout
                    else:
                        # Idle between requests; once a byte arrives, the head timeout runs.
                        await self._receive(self.limits.idle_timeout)
                        deadline = loop.time() + self.limits.header_timeout
                        continue
                late = HttpError(408, "the request head took too long")
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise late
                await self._receive(remaining, late)
                continue
            if isinstance(event, h11.ConnectionClosed):
                return None
            assert isinstance(event, h11.Request)
            # h11 lets control bytes other than NUL through; RFC 9110 5.5 forbids them.
            if any(_CONTROL.search(v) for _, v in event.headers) or _CONTROL.search(event.target):
                raise HttpError(400, "a control character in the request line or a header")
            return event

    async def body(self) -> AsyncIterator[bytes]:
        """The request body as it arrives; HttpError on a malformed, cut or oversized one."""
        total = 0
        while True:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise HttpError(400, f"malformed request body: {exc}") from None
            if event is h11.NEED_DATA:
                late = HttpError(408, "the request body stopped arriving")
                await self._receive(self.limits.body_timeout, late)
                continue
            if isinstance(event, h11.Data):
                total += len(event.data)
                if total > self.limits.max_body:
                    raise _too_large(self.limits)
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise HttpError(400, "the request body ended early")

    def send(self, *events: Any) -> None:
        data = b"".join(self.conn.send(event) or b"" for event in events)
        self.writer.write(data)

    async def answer(self, status: int, payload: dict[str, Any], keep: bool) -> None:
        body = json.dumps(payload, indent=2).encode() + b"\n"
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if not keep:
            headers.append((b"connection", b"close"))
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return  # an answer has begun: the client sees the connection cut instead
        if self.conn.our_state is h11.IDLE:
            # h11 has not read a whole head (a protocol error): answer outside its states.
            head = f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n".encode()
            lines = b"".join(k + b": " + v + b"\r\n" for k, v in headers)
            self.writer.write(head + lines + b"\r\n" + body)
        else:
            self.send(
                h11.Response(status_code=status, headers=headers, reason=_REASONS.get(status, "")),
                h11.Data(data=body),
                h11.EndOfMessage(),
            )
        await self.writer.drain()


def _too_large(limits: HttpLimits) -> HttpError:
    return HttpError(413, f"the request body is larger than {limits.max_body} bytes")


def request_path(target: str) -> str:
    """The path a request names (origin or absolute form), for routing and reserved paths."""
    if not target.startswith("/"):
        target = urlsplit(target).path or "/"
    return target.split("?", 1)[0]


class Router:
    def __init__(self, lookup: Lookup, limits: HttpLimits | None = None) -> None:
        self.lookup = lookup
        self.limits = limits or HttpLimits()
        self.table = RouteTable({}, [])
        self.internal: set[str] = set()  # deployed workers without a public host
        self.public_port = 0
        self._connections: set[asyncio.Task[Any]] = set()

    def route_for(self, host: str, path: str) -> Target | None:
        """Which worker (and version) answers a request: the one routing decision."""
        if path.startswith(RESERVED_PREFIX):
            return None
        worker = self.table.match(host, path)
        return self.lookup(worker) if worker is not None else None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        exchange = _Exchange(reader, writer, self.limits)
        if len(self._connections) >= self.limits.max_connections:
            # Over the limit: a quick 503 keeps descriptors (and the other clients) safe.
            with contextlib.suppress(ConnectionError, asyncio.TimeoutError):
                # Read what the client sent first: closing on unread bytes would reset.
                await asyncio.wait_for(reader.read(65536), 1.0)
                await exchange.answer(503, {"error": "too many connections"}, keep=False)
            writer.close()
            return
        if task is not None:
            self._connections.add(task)
        peer = writer.get_extra_info("peername")
        client_ip = peer[0] if isinstance(peer, tuple) and peer else "127.0.0.1"
        try:
            while True:
                request = await exchange.next_request()
                if request is None:
                    return
                keep = await self._one(exchange, request, client_ip)
                conn = exchange.conn
                if not keep or conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()
        except h11.RemoteProtocolError as exc:
            status = exc.error_status_hint if exc.error_status_hint == 431 else 400
            with contextlib.suppress(ConnectionError):
                await exchange.answer(status, {"error": f"bad request: {exc}"}, keep=False)
        except HttpError as exc:
            with contextlib.suppress(ConnectionError):
                await exchange.answer(exc.status, {"error": str(exc)}, keep=False)
        except (_Closed, ConnectionError):
            return
        finally:
            writer.close()
            if task is not None:
                self._connections.discard(task)

    async def _one(self, exchange: _Exchange, request: h11.Request, ip: str) -> bool:
        method = request.method.decode("ascii")
        target = request.target.decode("latin-1")
        headers: list[tuple[bytes, bytes]] = []
        hosts: list[str] = []
        length: int | None = None
        chunked = False
        expect_continue = False
        for name, value in request.headers:
            if name == b"host":
                hosts.append(value.decode("latin-1"))
            elif name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = True  # h11 accepts only a lone "chunked"
            elif name == b"expect":
                expect_continue = value.lower() == b"100-continue"
            if name.decode("latin-1") not in HOP_BY_HOP:
                headers.append((name, value))
        # What h11 lets through but a proxy must not (RFC 9112 6.3, 3.2): request smuggling.
        if chunked and length is not None:
            raise HttpError(400, "Content-Length and Transfer-Encoding together")
        if len(hosts) > 1 or (hosts and not _HOST.fullmatch(hosts[0])):
            raise HttpError(400, "a malformed Host header")
        if "#" in target:
            raise HttpError(400, "a fragment in the request target")
        if length is not None and length > self.limits.max_body:
            raise _too_large(self.limits)
        host = hosts[0] if hosts else ""
        keep = exchange.conn.their_http_version == b"1.1" or any(
            n == b"connection" and b"keep-alive" in v.lower() for n, v in request.headers
        )
        keep = keep and not any(
            n == b"connection" and b"close" in v.lower() for n, v in request.headers
        )
        path = request_path(target)
        fleet = self.route_for(host, path)
        if expect_continue and (chunked or length):
            exchange.send(
                h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
            )
        # Small bodies are read whole first: a malformed one is a 400 before any worker runs.
        body: bytes | None = None
        stream: AsyncIterator[bytes] | None = None
        if chunked or length:
            prefix: list[bytes] = []
            size = 0
            chunks = exchange.body()
            async for chunk in chunks:
                prefix.append(chunk)
                size += len(chunk)
                if size > BUFFER_LIMIT:
                    break
            else:
                body = b"".join(prefix)
            if body is None:
                stream = _continue(prefix, chunks, exchange)
        else:
            async for _ in exchange.body():  # h11's EndOfMessage of a bodiless request
                pass
        if fleet is None:
            if stream is not None:
                async for _ in stream:
                    pass
            await exchange.answer(404, self._not_found(host), keep=keep)
            return keep
        headers.append((b"cf-connecting-ip", ip.encode("latin-1")))
        headers.append((b"x-forwarded-proto", b"http"))
        request_head = FetchHead(
            method=method, url=f"http://{host or '127.0.0.1'}{target}", headers=headers, client=ip
        )
        upgrade = _header(request, b"upgrade").lower()
        ws_key = _header(request, b"sec-websocket-key")
        if upgrade == b"websocket" and ws_key and method == "GET":
            return await self._websocket(exchange, fleet, request_head, ws_key.decode("latin-1"))
        with fleet.pool.track():
            if fleet.client_delay:
                await asyncio.sleep(fleet.client_delay)  # --simulate-latency: the client leg
            return await self._relay(fleet, request_head, body, stream, exchange, keep, method)

    async def _websocket(
        self, exchange: _Exchange, fleet: Target, request: FetchHead, key: str
    ) -> bool:
        from wranglerpy.runtime.websocket_wire import relay
        from wranglerpy.wire.frames import WebSocketHead

        if exchange.conn.trailing_data[0]:
            # Frames sent before the 101 would be lost in h11's buffer: not a real client.
            raise HttpError(400, "data sent before the WebSocket handshake was answered")
        handshake = WebSocketHead(url=request.url, headers=request.headers, client=request.client)
        handshake.headers.append((b"upgrade", b"websocket"))
        with fleet.pool.track():
            await relay(fleet.client, handshake, key, exchange.reader, exchange.writer)
        return False  # the connection was the WebSocket's

    async def _relay(
        self,
        fleet: Target,
        request: FetchHead,
        body: bytes | None,
        stream: AsyncIterator[bytes] | None,
        exchange: _Exchange,
        keep: bool,
        method: str,
    ) -> bool:
        client: FrameClient = fleet.client
        try:
            answer = await client.fetch(request, body, stream)
        except OSError:  # FrameError is a ConnectionError, an OSError
            if exchange.body_error is not None:
                raise exchange.body_error from None
            await exchange.answer(502, {"error": "the worker is not reachable"}, keep=keep)
            return keep
        meta = answer.head
        head_only = method == "HEAD"
        headers: list[tuple[bytes, bytes]] = []
        declared: bytes | None = None
        for key, value in meta.headers:
            lower = key.lower()
            if lower == b"content-length":
                declared = value
                continue
            if lower in (b"transfer-encoding", b"connection", b"keep-alive"):
                continue
            headers.append((key, value))
        if answer.uploading:
            keep = False  # the rest of the request body is still unread on the socket
        if not keep:
            headers.append((b"connection", b"close"))
        writer = exchange.writer
        try:
            if answer.body is not None or head_only:
                data = answer.body if answer.body is not None else b""
                size = declared if head_only and declared else str(len(data)).encode()
                headers.append((b"content-length", size))
                events: list[Any] = [_response(meta.status, headers)]
                if data and not head_only:
                    events.append(h11.Data(data=data))
                exchange.send(*events, h11.EndOfMessage())  # one write, one segment
                await writer.drain()
            else:
                # No length: h11 sends it chunked (or, to an HTTP/1.0 client, until close).
                exchange.send(_response(meta.status, headers))
                await writer.drain()
                async with contextlib.aclosing(answer.chunks()) as chunks:
                    async for chunk in chunks:
                        exchange.send(h11.Data(data=chunk))
                        await writer.drain()
                exchange.send(h11.EndOfMessage())
                await writer.drain()
        except h11.LocalProtocolError:
            # The worker's head is not valid HTTP/1.1 (e.g. a newline in a value).
            await exchange.answer(502, {"error": "the worker sent an invalid response"}, False)
            return False
        except FrameError:
            return False  # the worker went away mid-answer: the client sees a cut connection
        finally:
            answer.close()  # a no-op once the answer was read; else the worker stops its stream
        return keep and exchange.conn.our_state is h11.DONE

    def _not_found(self, host: str) -> dict[str, Any]:
        # The deployed hosts are not listed: a 404 must not map the edge for a stranger.
        bare = host.split(":")[0].lower()
        message = f"No worker is deployed at {host or '(no Host header)'}."
        for name in self.internal:
            if bare == f"{name.lower()}.localhost":
                message = (
                    f'Worker "{name}" is internal (workers_dev = false and no routes): '
                    "it is reachable only through service bindings."
                )
        return {"error": message, "hint": "`wranglerpy deployments list` shows the routes."}

    async def close(self) -> None:
        for task in list(self._connections):
            task.cancel()


def _header(request: h11.Request, name: bytes) -> bytes:
    for key, value in request.headers:
        if key == name:
            return bytes(value)
    return b""


def _response(status: int, headers: list[tuple[bytes, bytes]]) -> h11.Response:
    return h11.Response(status_code=status, headers=headers, reason=_REASONS.get(status, ""))


async def _continue(
    prefix: list[bytes], rest: AsyncIterator[bytes], exchange: _Exchange
) -> AsyncIterator[bytes]:
    """A body streamed to a worker: what was read already, then the rest as it comes; a
    failure is kept, so the client gets its 400/413/408 rather than the worker's 502."""
    for chunk in prefix:
        yield chunk
    try:
        async for chunk in rest:
            yield chunk
    except HttpError as exc:
        exchange.body_error = exc
        raise
