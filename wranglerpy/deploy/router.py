"""The edge's public port: a small HTTP/1.1 server that hands each request to a worker.

It parses just enough HTTP (request line, headers, Content-Length or chunked bodies), picks
the worker from the Host header and path, and relays the request to the worker as a
``FETCH`` frame (see ``wranglerpy.wire``); the answer goes back with Content-Length when the worker buffered it, chunk by chunk
(chunked encoding) when it streams, so SSE passes through as it is produced. Connections are
kept alive on both sides.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from typing import Any, Protocol

from wranglerpy.deploy.routes import RouteTable
from wranglerpy.host.pool import WorkerPool
from wranglerpy.runtime.scheduled import SCHEDULED_PATHS
from wranglerpy.wire.client import Answer, FrameClient
from wranglerpy.wire.frames import FetchHead, FrameError

MAX_HEAD = 64 * 1024
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
        # Set by the edge itself, as Cloudflare does: a client cannot claim another address.
        "cf-connecting-ip",
        "x-forwarded-proto",
    }
)
_REASONS = {s.value: s.phrase for s in HTTPStatus}


class BadRequest(Exception):
    pass


class Target(Protocol):
    """What the router needs of a deployed worker (a Fleet satisfies it)."""

    client: FrameClient
    pool: WorkerPool  # counts the requests in flight, so a replaced version drains them
    client_delay: float


Lookup = Callable[[str], "Target | None"]  # worker name -> its live version


class Router:
    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        self.table = RouteTable({}, [])
        self.internal: set[str] = set()  # deployed workers without a public host
        self.public_port = 0
        self._connections: set[asyncio.Task[Any]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        peer = writer.get_extra_info("peername")
        client_ip = peer[0] if isinstance(peer, tuple) and peer else "127.0.0.1"
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                try:
                    keep = await self._one(head, reader, writer, client_ip)
                except BadRequest as exc:
                    await _simple(writer, 400, {"error": str(exc)}, keep=False)
                    return
                if not keep:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()
            if task is not None:
                self._connections.discard(task)

    async def _one(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ip: str
    ) -> bool:
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            raise BadRequest("malformed request line") from None
        headers: list[tuple[bytes, bytes]] = []
        host = ""
        length: int | None = None
        chunked = False
        connection = ""
        expect_continue = False
        upgrade = ws_key = ""
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise BadRequest(f"malformed header line {line!r}")
            key = name.strip().lower()
            value = value.strip()
            if key == "host":
                host = value
            elif key == "content-length":
                try:
                    length = int(value)
                except ValueError:
                    raise BadRequest("bad Content-Length") from None
            elif key == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif key == "connection":
                connection = value.lower()
            elif key == "upgrade":
                upgrade = value.lower()
            elif key == "sec-websocket-key":
                ws_key = value
            elif key == "expect":
                expect_continue = value.lower() == "100-continue"
                continue  # answered here; the worker gets the body as it is
            if key not in HOP_BY_HOP:
                headers.append((key.encode("latin-1"), value.encode("latin-1")))
        keep = "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
        path = target.split("?", 1)[0]
        worker = self.table.match(host, path)
        # Scheduled handlers run from cron triggers only, as on Cloudflare: not a public path.
        reserved = path in SCHEDULED_PATHS
        fleet = self.lookup(worker) if worker is not None and not reserved else None
        body: bytes | None = None
        stream: AsyncIterator[bytes] | None = None
        if expect_continue and (chunked or length):
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # curl waits a second without it
        if chunked:
            stream = _chunked_body(reader)
        elif length:
            if length <= BUFFER_LIMIT:
                body = await reader.readexactly(length)
            else:
                stream = _sized_body(reader, length)
        if fleet is None:
            if stream is not None:
                async for _ in stream:
                    pass
            await _simple(writer, 404, self._not_found(host), keep=keep)
            return keep
        headers.append((b"cf-connecting-ip", ip.encode("latin-1")))
        headers.append((b"x-forwarded-proto", b"http"))
        request = FetchHead(
            method=method, url=f"http://{host or '127.0.0.1'}{target}", headers=headers, client=ip
        )
        if upgrade == "websocket" and ws_key and method == "GET":
            from wranglerpy.runtime.websocket_wire import relay
            from wranglerpy.wire.frames import WebSocketHead

            handshake = WebSocketHead(
                url=f"http://{host or '127.0.0.1'}{target}", headers=headers, client=ip
            )
            handshake.headers.append((b"upgrade", b"websocket"))
            with fleet.pool.track():
                await relay(fleet.client, handshake, ws_key, reader, writer)
            return False  # the connection was the WebSocket's
        with fleet.pool.track():
            if fleet.client_delay:
                await asyncio.sleep(fleet.client_delay)  # --simulate-latency: the client leg
            return await self._relay(
                fleet, request, body, stream, writer, keep, method == "HEAD", version == "HTTP/1.0"
            )

    async def _relay(
        self,
        fleet: Target,
        request: FetchHead,
        body: bytes | None,
        stream: AsyncIterator[bytes] | None,
        writer: asyncio.StreamWriter,
        keep: bool,
        head_only: bool,
        http10: bool = False,
    ) -> bool:
        client: FrameClient = fleet.client
        try:
            answer = await client.fetch(request, body, stream)
        except OSError:  # FrameError is a ConnectionError, an OSError
            await _simple(writer, 502, {"error": "the worker is not reachable"}, keep=keep)
            return keep
        meta = answer.head
        out = [f"HTTP/1.1 {meta.status} {_REASONS.get(meta.status, 'Unknown')}\r\n"]
        declared: str | None = None
        for raw_key, raw_value in meta.headers:
            key, value = raw_key.decode("latin-1"), raw_value.decode("latin-1")
            lower = key.lower()
            if lower == "content-length":
                declared = value
                continue
            if lower in ("transfer-encoding", "connection", "keep-alive"):
                continue
            out.append(f"{key}: {value}\r\n")
        streamed = answer.body is None and not head_only
        if streamed and http10:
            keep = False  # HTTP/1.0 has no chunked encoding: the body ends when we close
        if answer.uploading:
            keep = False  # the rest of the request body is still unread on the socket
        if not keep:
            out.append("connection: close\r\n")
        try:
            if not streamed:
                data = answer.body if answer.body is not None else await answer.read_all()
                size = declared if head_only and declared else str(len(data))
                out.append(f"content-length: {size}\r\n\r\n")
                writer.write("".join(out).encode("latin-1") + (b"" if head_only else data))
                await writer.drain()
            elif http10:
                writer.write("".join(out + ["\r\n"]).encode("latin-1"))
                await _copy(answer, writer, chunked=False)
            else:
                out.append("transfer-encoding: chunked\r\n\r\n")
                writer.write("".join(out).encode("latin-1"))
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
        bare = host.split(":")[0].lower()
        port = f":{self.public_port}" if self.public_port else ""
        message = f"No worker is deployed at {host or '(no Host header)'}."
        for name in self.internal:
            if bare == f"{name.lower()}.localhost":
                message = (
                    f'Worker "{name}" is internal (workers_dev = false and no routes): '
                    "it is reachable only through service bindings."
                )
        return {
            "error": message,
            "hosts": [
                f"http://{h}{port}" if not ("/" in h or "*" in h) else h
                for h in self.table.public_hosts()
            ],
        }

    async def close(self) -> None:
        for task in list(self._connections):
            task.cancel()


async def _simple(
    writer: asyncio.StreamWriter, status: int, payload: dict[str, Any], keep: bool
) -> None:
    body = json.dumps(payload, indent=2).encode() + b"\n"
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n" + ("" if keep else "connection: close\r\n") + "\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()


async def _copy(answer: Answer, writer: asyncio.StreamWriter, *, chunked: bool) -> None:
    async with contextlib.aclosing(answer.chunks()) as chunks:
        async for chunk in chunks:
            writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()


async def _sized_body(reader: asyncio.StreamReader, length: int) -> AsyncIterator[bytes]:
    remaining = length
    while remaining > 0:
        chunk = await reader.read(min(remaining, 65536))
        if not chunk:
            raise ConnectionError("client closed mid-body")
        remaining -= len(chunk)
        yield chunk


async def _chunked_body(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest("bad chunk size") from None
        if size == 0:
            # Trailers (rare) end with an empty line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return
        data = await reader.readexactly(size)
        await reader.readexactly(2)
        yield data
