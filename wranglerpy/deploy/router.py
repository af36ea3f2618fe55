"""The edge's public port: an HTTP/1.1 server that hands each request to a worker.

``http1.Exchange`` parses every request strictly (httptools: llhttp, RFC 9112); anything
ambiguous is answered 400 and the connection closed. The router picks the worker from the
Host header and path (``route_for``: the one routing decision) and relays the request as a ``FETCH`` frame (see
``wranglerpy.wire``); the answer goes back with Content-Length when the worker buffered it,
chunk by chunk when it streams, so SSE passes through as it is produced. Connections are
kept alive on both sides, within ``HttpLimits`` (timeouts, a connection limit, 413 above
100 MB as on Cloudflare).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from wranglerpy.deploy.http1 import Closed, Exchange, HttpError, RequestHead
from wranglerpy.deploy.routes import RouteTable, not_found_message
from wranglerpy.host.http_limits import HttpLimits
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
        "expect",  # answered here; the worker gets the body as it is
        # Set by the edge itself, as Cloudflare does: a client cannot claim another address.
        "cf-connecting-ip",
        "x-forwarded-proto",
    }
)
# Cloudflare answers its own /cdn-cgi/ paths; none reaches a worker (nor its scheduled handler).
RESERVED_PREFIX = "/cdn-cgi/"
# RFC 9110 Host: a reg-name or IPv4 address, or a bracketed IPv6 literal; an optional port.
_UNSAFE = re.compile(rb"[\r\n\x00]")
_HOST = re.compile(r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*)|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


class Target(Protocol):
    """What the router needs of a deployed worker (a ``host.pool.HostedWorker``)."""

    client: FrameClient
    pool: WorkerPool  # counts the requests in flight, so a replaced version drains them


# (worker name, version-overrides header, version-key header) -> the version that answers
Lookup = Callable[[str, str, str], "Target | None"]


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
        self._connections: set[asyncio.Task[Any]] = set()

    def route_for(self, host: str, path: str, headers: list[tuple[bytes, bytes]]) -> Target | None:
        """Which worker (and version) answers a request: the one routing decision."""
        if path.startswith(RESERVED_PREFIX):
            return None
        worker = self.table.match(host, path)
        return self.lookup(worker, *_version_headers(headers)) if worker is not None else None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # each connection is served in a task of its own
        exchange = Exchange(reader, writer, self.limits)
        if len(self._connections) >= self.limits.max_connections:
            # Over the limit: a quick 503 keeps descriptors (and the other clients) safe.
            with contextlib.suppress(ConnectionError, asyncio.TimeoutError):
                # Read what the client sent first: closing on unread bytes would reset.
                await asyncio.wait_for(reader.read(65536), 1.0)
                await exchange.answer(503, {"error": "too many connections"}, keep=False)
            writer.close()
            return
        self._connections.add(task)
        peer = writer.get_extra_info("peername")
        client_ip = peer[0] if isinstance(peer, tuple) and peer else "127.0.0.1"
        try:
            while True:
                request = await exchange.next_request()
                if request is None:
                    return
                exchange.answering = False
                if not await self._one(exchange, request, client_ip):
                    return
        except HttpError as exc:
            with contextlib.suppress(ConnectionError):
                await exchange.answer(exc.status, {"error": str(exc)}, keep=False)
        except (Closed, ConnectionError):
            return
        finally:
            writer.close()
            self._connections.discard(task)

    async def _one(self, exchange: Exchange, request: RequestHead, ip: str) -> bool:
        method, target = request.method, request.target
        hosts = [v.decode("latin-1") for k, v in request.headers if k == b"host"]
        # llhttp leaves these to the server (RFC 9110 7.2, 4.2.4): a Host that is not one
        # (it would become the URL's path), and a fragment a worker's URL parser would drop.
        if len(hosts) > 1 or (hosts and not _HOST.fullmatch(hosts[0])):
            raise HttpError(400, "a malformed Host header")
        if "#" in target:
            raise HttpError(400, "a fragment in the request target")
        host = hosts[0] if hosts else ""
        headers = [(k, v) for k, v in request.headers if k.decode("latin-1") not in HOP_BY_HOP]
        keep = request.keep_alive and not request.upgrade
        path = request_path(target)
        fleet = self.route_for(host, path, request.headers)
        if request.has_body and request.header(b"expect").lower() == b"100-continue":
            exchange.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        # Small bodies are read whole first: a malformed one is a 400 before any worker runs.
        body: bytes | None = None
        stream: AsyncIterator[bytes] | None = None
        prefix: list[bytes] = []
        size = 0
        chunks = exchange.body()
        async for chunk in chunks:
            prefix.append(chunk)
            size += len(chunk)
            if size > BUFFER_LIMIT:
                stream = _continue(prefix, chunks, exchange)
                break
        else:
            body = b"".join(prefix) if prefix else None
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
        upgrade = request.header(b"upgrade").lower()
        ws_key = request.header(b"sec-websocket-key")
        if upgrade == b"websocket" and ws_key and method == "GET":
            return await self._websocket(exchange, fleet, request_head, ws_key.decode("latin-1"))
        with fleet.pool.track():
            latency = fleet.pool.spec.latency if fleet.pool.spec is not None else None
            if latency is not None and latency.client_ms:  # --simulate-latency's client leg
                await asyncio.sleep(latency.client_ms / 1000)
            return await self._relay(fleet, request_head, body, stream, exchange, keep, request)

    async def _websocket(
        self, exchange: Exchange, fleet: Target, request: FetchHead, key: str
    ) -> bool:
        from wranglerpy.runtime.websocket_wire import relay
        from wranglerpy.wire.frames import WebSocketHead

        if exchange.leftover:
            # Frames sent before the 101 would be lost in the parser's buffer: not a real client.
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
        exchange: Exchange,
        keep: bool,
        client_request: RequestHead,
    ) -> bool:
        try:
            answer = await fleet.client.fetch(request, body, stream)
        except OSError:  # FrameError is a ConnectionError, an OSError
            if exchange.body_error is not None:
                raise exchange.body_error from None
            await exchange.answer(502, {"error": "the worker is not reachable"}, keep=keep)
            return keep
        meta = answer.head
        head_only = client_request.method == "HEAD"
        headers: list[tuple[bytes, bytes]] = []
        declared: bytes | None = None
        for key, value in meta.headers:
            if _UNSAFE.search(key) or _UNSAFE.search(value):
                answer.close()  # a CR or LF would split the answer: not valid HTTP
                await exchange.answer(502, {"error": "the worker sent an invalid header"}, False)
                return False
            lower = key.lower()
            if lower == b"content-length":
                declared = value
                continue
            if lower in (b"transfer-encoding", b"connection", b"keep-alive"):
                continue
            headers.append((key, value))
        streamed = answer.body is None and not head_only
        if streamed and client_request.http10:
            keep = False  # HTTP/1.0 has no chunked encoding: the body ends when we close
        if answer.uploading:
            keep = False  # the rest of the request body is still unread on the socket
        if not keep:
            headers.append((b"connection", b"close"))
        writer = exchange.writer
        try:
            if not streamed:
                data = answer.body if answer.body is not None else b""
                size = declared if head_only and declared else str(len(data)).encode()
                headers.append((b"content-length", size))
                exchange.write_head(meta.status, headers)
                if not head_only:
                    writer.write(data)
                await writer.drain()
            elif client_request.http10:
                exchange.write_head(meta.status, headers)
                await _copy(answer, writer, chunked=False)
            else:
                headers.append((b"transfer-encoding", b"chunked"))
                exchange.write_head(meta.status, headers)
                await writer.drain()
                await _copy(answer, writer, chunked=True)
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except FrameError:
            return False  # the worker went away mid-answer: the client sees a cut connection
        finally:
            answer.close()  # a no-op once the answer was read; else the worker stops its stream
        return keep

    def _not_found(self, host: str) -> dict[str, Any]:
        return {
            "error": not_found_message(host, self.internal),
            "hint": "`wranglerpy deployments list` shows the routes.",
        }

    async def close(self) -> None:
        for task in list(self._connections):
            task.cancel()


def _version_headers(headers: list[tuple[bytes, bytes]]) -> tuple[str, str]:
    """The gradual-deployment headers of a request (see ``deploy.split``); the last one of a
    repeated header counts."""
    values = dict(headers)
    overrides = values.get(b"cloudflare-workers-version-overrides", b"").decode("latin-1")
    key = values.get(b"cloudflare-workers-version-key", b"").decode("latin-1")
    return overrides, key


async def _copy(answer: Answer, writer: asyncio.StreamWriter, *, chunked: bool) -> None:
    async with contextlib.aclosing(answer.chunks()) as chunks:
        async for chunk in chunks:
            writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()


async def _continue(
    prefix: list[bytes], rest: AsyncIterator[bytes], exchange: Exchange
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
