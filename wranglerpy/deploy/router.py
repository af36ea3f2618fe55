"""The edge's public port: an ASGI app, served by the host's HTTP server, that hands each
request to a worker.

The server (``host/http_server.py``: uvicorn, httptools' strict llhttp parser, the
``HttpLimits`` timeouts, 408/431, 503 over the connection limit) parses the request; the
router checks what llhttp leaves to a server (a malformed or repeated Host, a fragment in
the target, control bytes in a header value: 400, and the connection closed), picks the
worker from the Host header and path (``route_for``: the one routing decision) and relays
the request as a ``FETCH`` frame (see ``wranglerpy.wire``); the answer goes back with
Content-Length when the worker buffered it, chunk by chunk when it streams, so SSE passes
through as it is produced. A request body above ``max_body`` (100 MB, as on Cloudflare) is
413, counted as it arrives. WebSocket upgrades are relayed as ``WebSocketHead`` calls
(``runtime/websocket_wire.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from wranglerpy.deploy.routes import RouteTable, not_found_message
from wranglerpy.host.http_limits import HttpLimits
from wranglerpy.host.http_server import EXTENSION, Abort, HttpFront, writable
from wranglerpy.host.pool import WorkerPool
from wranglerpy.wire.client import Answer, FrameClient
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
        "expect",  # answered by the server; the worker gets the body as it is
        # Set by the edge itself, as Cloudflare does: a client cannot claim another address.
        "cf-connecting-ip",
        "x-forwarded-proto",
    }
)
_HOP_BY_HOP = frozenset(name.encode() for name in HOP_BY_HOP)
# The worker's answer: its framing is the server's to choose.
_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection", b"keep-alive"})
# Cloudflare answers its own /cdn-cgi/ paths; none reaches a worker (nor its scheduled handler).
RESERVED_PREFIX = "/cdn-cgi/"
# RFC 9110 Host: a reg-name or IPv4 address, or a bracketed IPv6 literal; an optional port.
_HOST = re.compile(rb"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*)|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
# llhttp lets some control bytes through in header values; RFC 9110 5.5 forbids them.
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class Target(Protocol):
    """What the router needs of a deployed worker (a ``host.pool.HostedWorker``)."""

    client: FrameClient
    pool: WorkerPool  # counts the requests in flight, so a replaced version drains them


# (worker name, version-overrides header, version-key header) -> the version that answers
Lookup = Callable[[str, str, str], "Target | None"]
Send = Callable[[dict[str, Any]], Any]
Receive = Callable[[], Any]


class Refusal(Exception):
    """A request the edge answers itself with ``status`` (JSON), closing the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def request_path(target: str) -> str:
    """The path a request names (origin or absolute form), for routing and reserved paths."""
    if not target.startswith("/"):
        from urllib.parse import urlsplit

        target = urlsplit(target).path or "/"
    return target.split("?", 1)[0]


class Router:
    """The edge's routing, as an ASGI app; ``start`` serves it on a listening socket."""

    def __init__(self, lookup: Lookup, limits: HttpLimits | None = None) -> None:
        self.lookup = lookup
        self.table = RouteTable({}, [])
        self.internal: set[str] = set()  # deployed workers without a public host
        self.front = HttpFront(self, limits or HttpLimits())

    @property
    def limits(self) -> HttpLimits:
        return self.front.limits

    @limits.setter
    def limits(self, limits: HttpLimits) -> None:
        self.front.limits = limits  # each new connection reads them

    async def start(self, listener: socket.socket) -> None:
        await self.front.start(listener)

    async def close(self) -> None:
        await self.front.close()

    def route_for(self, host: str, path: str, headers: list[tuple[bytes, bytes]]) -> Target | None:
        """Which worker (and version) answers a request: the one routing decision."""
        if path.startswith(RESERVED_PREFIX):
            return None
        worker = self.table.match(host, path)
        return self.lookup(worker, *_version_headers(headers)) if worker is not None else None

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                await self._http(scope, receive, send)
            except Refusal as refusal:
                await _answer(send, refusal.status, {"error": str(refusal)}, keep=False)
        elif scope["type"] == "websocket":
            from wranglerpy.runtime.websocket_wire import refuse

            try:
                await self._websocket(scope, receive, send)
            except Refusal as refusal:
                await refuse(send, refusal.status, [], _json({"error": str(refusal)}))

    # ----------------------------------------------------------------- HTTP
    async def _http(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        raw = scope["headers"]
        hosts: list[bytes] = []
        length = has_body = None
        for name, value in raw:  # one pass over the headers: this runs for every request
            if _CONTROL.search(value):
                raise Refusal(400, "a control character in a header")
            if name == b"host":
                hosts.append(value)
            elif name == b"content-length":
                length = has_body = value
            elif name == b"transfer-encoding":
                has_body = value
        host = _host(hosts)
        target = _target(scope)
        path = request_path(target)
        if not target.startswith("/"):  # absolute form (RFC 9112 3.2.2): its path and query
            query = scope["query_string"].decode("latin-1")
            target = path + (f"?{query}" if query else "")
        if length is not None:
            if not length.isdigit():  # llhttp lets no other through; kept from a 500 all the same
                raise Refusal(400, "a malformed Content-Length")
            if int(length) > self.limits.max_body:
                raise Refusal(413, f"the request body is larger than {self.limits.max_body} bytes")
        fleet = self.route_for(host, path, raw)
        # Small bodies are read whole first: a cut one reaches no worker.
        body: bytes | None = None
        stream: AsyncIterator[bytes] | None = None
        reading = _Body(receive, self.limits.max_body)
        if has_body is not None:
            body, stream = await reading.start()
        if fleet is None:
            if stream is not None:
                async for _ in stream:
                    pass
            await _answer(send, 404, self._not_found(host), keep=True)
            return
        ip = scope["client"][0] if scope.get("client") else "127.0.0.1"
        headers = [(k, v) for k, v in raw if k not in _HOP_BY_HOP]
        headers.append((b"cf-connecting-ip", ip.encode("latin-1")))
        headers.append((b"x-forwarded-proto", b"http"))
        head = FetchHead(
            method=scope["method"],
            url=f"http://{host or '127.0.0.1'}{target}",
            headers=headers,
            client=ip,
        )
        with fleet.pool.track():
            latency = fleet.pool.spec.latency if fleet.pool.spec is not None else None
            if latency is not None and latency.client_ms:  # --simulate-latency's client leg
                await asyncio.sleep(latency.client_ms / 1000)
            try:
                answer = await fleet.client.fetch(head, body, stream)
            except OSError:  # FrameError is a ConnectionError, an OSError
                reading.raise_failure()
                await _answer(send, 502, {"error": "the worker is not reachable"}, keep=True)
                return
            closing = scope["extensions"][EXTENSION]["closing"]
            await _relay(answer, scope["method"] == "HEAD", send, closing)

    def _not_found(self, host: str) -> dict[str, Any]:
        return {
            "error": not_found_message(host, self.internal),
            "hint": "`wranglerpy deployments list` shows the routes.",
        }

    # ------------------------------------------------------------ WebSocket
    async def _websocket(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        from wranglerpy.runtime.websocket_wire import refuse, relay
        from wranglerpy.wire.frames import WebSocketHead

        raw = scope["headers"]
        host = _host([value for name, value in raw if name == b"host"])
        query = scope.get("query_string", b"")
        target = scope["raw_path"].decode("latin-1")
        if query:
            target += "?" + query.decode("latin-1")
        fleet = self.route_for(host, request_path(target), raw)
        if fleet is None:
            await receive()  # websocket.connect
            await refuse(send, 404, [], _json(self._not_found(host)))
            return
        ip = scope["client"][0] if scope.get("client") else "127.0.0.1"
        headers = [(k, v) for k, v in raw if k not in _HOP_BY_HOP]
        headers += [
            (b"upgrade", b"websocket"),
            (b"cf-connecting-ip", ip.encode("latin-1")),
            (b"x-forwarded-proto", b"http"),
        ]
        url = f"http://{host or '127.0.0.1'}{target}"
        with fleet.pool.track():
            await relay(
                fleet.client, WebSocketHead(url=url, headers=headers, client=ip), receive, send
            )


class _Body:
    """A request body from ASGI ``receive``, within ``max_body``: whole when it is small, else
    what was read so far and then the rest as it arrives. A failure (too large, the client
    gone) is kept, so the client gets its 413 rather than the worker's 502."""

    def __init__(self, receive: Receive, max_body: int) -> None:
        self.receive = receive
        self.max_body = max_body
        self.size = 0
        self.failure: Refusal | Abort | None = None

    async def start(self) -> tuple[bytes | None, AsyncIterator[bytes] | None]:
        parts: list[bytes] = []
        while True:
            chunk, more = await self._next()
            parts.append(chunk)
            if not more:
                return b"".join(parts) or None, None
            if self.size > BUFFER_LIMIT:
                return None, self._rest(parts)

    async def _next(self) -> tuple[bytes, bool]:
        message = await self.receive()
        if message["type"] == "http.disconnect":
            raise Abort("the client left before its request body ended")
        chunk = message.get("body", b"")
        self.size += len(chunk)
        if self.size > self.max_body:
            raise Refusal(413, f"the request body is larger than {self.max_body} bytes")
        return chunk, message.get("more_body", False)

    async def _rest(self, parts: list[bytes]) -> AsyncIterator[bytes]:
        for chunk in parts:
            yield chunk
        more = True
        while more:
            try:
                chunk, more = await self._next()
            except (Refusal, Abort) as exc:
                # Not a ConnectionError: the frame client cuts the worker's body short.
                self.failure = exc
                raise
            yield chunk

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure


def _host(hosts: list[bytes]) -> str:
    """The request's Host, from its Host headers; llhttp leaves their checks to the server
    (RFC 9110 7.2): a Host that is not one would become the URL's path."""
    if len(hosts) > 1 or (hosts and not _HOST.fullmatch(hosts[0])):
        raise Refusal(400, "a malformed Host header")
    return hosts[0].decode("latin-1") if hosts else ""


def _target(scope: dict[str, Any]) -> str:
    """The request target as sent; a fragment (which a worker's URL parser would drop) is
    not one (RFC 9110 4.2.4)."""
    target: bytes = scope["extensions"][EXTENSION]["target"]
    if b"#" in target:
        raise Refusal(400, "a fragment in the request target")
    return target.decode("latin-1")


async def _relay(answer: Answer, head_only: bool, send: Send, closing: Callable[[], bool]) -> None:
    """The worker's answer to the client: whole with its length, or chunk by chunk."""
    meta = answer.head
    headers: list[tuple[bytes, bytes]] = []
    declared: bytes | None = None
    for key, value in meta.headers:
        if not writable(key, value):
            answer.close()  # a CR or LF would split the answer: not valid HTTP
            await _answer(send, 502, {"error": "the worker sent an invalid header"}, keep=False)
            return
        lower = key.lower()
        if lower == b"content-length":
            declared = value
        elif lower not in _FRAMING:
            headers.append((key, value))
    if answer.uploading:
        # The rest of the request body is still unread on the socket.
        headers.append((b"connection", b"close"))
    try:
        if answer.body is not None or head_only:
            data = answer.body or b""
            size = declared if head_only and declared else str(len(data)).encode()
            headers.append((b"content-length", size))
            await send({"type": "http.response.start", "status": meta.status, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if head_only else data})
            return
        await send({"type": "http.response.start", "status": meta.status, "headers": headers})
        async with contextlib.aclosing(answer.chunks()) as chunks:
            async for chunk in chunks:
                if closing():  # the client left: the worker sees its caller leave
                    raise Abort("the client left mid-answer")
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    except FrameError:
        raise Abort("the worker went away mid-answer") from None  # the client sees a cut
    finally:
        answer.close()  # a no-op once the answer was read; else the worker stops its stream


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, indent=2).encode() + b"\n"


async def _answer(send: Send, status: int, payload: dict[str, Any], keep: bool) -> None:
    """The edge's own JSON answer (404, 400, 413, 502)."""
    body = _json(payload)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if not keep:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _version_headers(headers: list[tuple[bytes, bytes]]) -> tuple[str, str]:
    """The gradual-deployment headers of a request (see ``deploy.split``); the last one of a
    repeated header counts."""
    values = dict(headers)
    overrides = values.get(b"cloudflare-workers-version-overrides", b"").decode("latin-1")
    key = values.get(b"cloudflare-workers-version-key", b"").decode("latin-1")
    return overrides, key
