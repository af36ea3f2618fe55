"""One client connection of the edge: strict HTTP/1.1 parsing (httptools, llhttp's C parser)
within ``HttpLimits``, and the answers written back.

llhttp rejects what RFC 9112 calls ambiguous: ``Content-Length`` with ``Transfer-Encoding``,
duplicate lengths, unknown codings, malformed chunk sizes, control bytes, whitespace before a
header's colon. Each rejection is an ``HttpError`` (400) and the connection is closed.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import httptools

from wranglerpy.host.http_limits import HttpLimits

REASONS = {s.value: s.phrase for s in HTTPStatus}
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_END = object()  # the end of a request body, in the event queue


class HttpError(Exception):
    """A request answered by the edge itself with ``status``; the connection is closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Closed(Exception):
    """The client left, or stayed silent past a timeout: close without an answer."""


@dataclass
class RequestHead:
    method: str
    target: str
    headers: list[tuple[bytes, bytes]]  # names in lower case
    http10: bool
    keep_alive: bool
    has_body: bool
    upgrade: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def header(self, name: bytes) -> bytes:
        for key, value in self.headers:
            if key == name:
                return value
        return b""


def too_large(limits: HttpLimits) -> HttpError:
    return HttpError(413, f"the request body is larger than {limits.max_body} bytes")


class Exchange:
    """A client connection: the parser's events, the socket, and the limits that bound them."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limits: HttpLimits
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.limits = limits
        self.parser = httptools.HttpRequestParser(self)
        self.events: deque[Any] = deque()
        self.in_message = False  # between a request's first byte and its body's end
        self.in_head = False
        self.head_size = 0
        self.leftover = b""  # bytes after an Upgrade request's head
        self.upgraded = False
        self.answering = False  # an answer has begun: errors can only cut the connection
        self.body_error: HttpError | None = None  # why a streamed request body stopped
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []

    # ----------------------------------------------------- parser callbacks
    def on_message_begin(self) -> None:
        self.in_message = self.in_head = True
        self._url = b""
        self._headers = []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.in_head = False
        parser = self.parser
        names = {name for name, _ in self._headers}
        self.events.append(
            RequestHead(
                method=parser.get_method().decode("ascii"),
                target=self._url.decode("latin-1"),
                headers=self._headers,
                http10=parser.get_http_version() == "1.0",
                keep_alive=parser.should_keep_alive(),
                has_body=b"content-length" in names or b"transfer-encoding" in names,
                upgrade=parser.should_upgrade(),
                extra={"size": len(self._url) + sum(len(n) + len(v) for n, v in self._headers)},
            )
        )

    def on_body(self, body: bytes) -> None:
        self.events.append(bytes(body))

    def on_message_complete(self) -> None:
        self.in_message = False
        self.events.append(_END)

    # --------------------------------------------------------------- input
    def _feed(self, data: bytes) -> None:
        if self.upgraded:
            self.leftover += data
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self.upgraded = True
            self.leftover = data[exc.args[0] :] if exc.args else b""
        except httptools.HttpParserError as exc:
            raise HttpError(400, f"bad request: {exc}") from None
        if self.in_head:
            self.head_size += len(data)
            if self.head_size > self.limits.max_head:
                raise HttpError(431, "the request head is too large")
        else:
            self.head_size = 0

    async def _receive(self, timeout: float, late: HttpError | None = None) -> bytes:
        """Read and parse what arrives; past ``timeout``, ``late`` is raised (else Closed)."""
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
            raise late or Closed() from None
        except ConnectionError:
            raise Closed from None
        finally:
            timer.cancel()
        if data:
            self._feed(data)
        return data

    async def next_request(self) -> RequestHead | None:
        """The next request head; None when the client closed between requests."""
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        late = HttpError(408, "the request head took too long")
        while True:
            if self.events:
                event = self.events.popleft()
                assert isinstance(event, RequestHead)
                self._check(event)
                return event
            if deadline is None and not self.in_message:
                # Idle between requests; once a byte arrives, the head timeout runs.
                data = await self._receive(self.limits.idle_timeout)
                deadline = loop.time() + self.limits.header_timeout
            else:
                if deadline is None:
                    deadline = loop.time() + self.limits.header_timeout
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise late
                data = await self._receive(remaining, late)
            if not data:
                if self.in_message:
                    raise HttpError(400, "the request head ended early")
                return None

    def _check(self, head: RequestHead) -> None:
        if head.extra["size"] > self.limits.max_head:
            raise HttpError(431, "the request head is too large")
        # llhttp lets some control bytes through in values; RFC 9110 5.5 forbids them.
        if any(_CONTROL.search(v) for _, v in head.headers):
            raise HttpError(400, "a control character in a header")
        length = head.header(b"content-length")
        if length and int(length) > self.limits.max_body:
            raise too_large(self.limits)

    async def body(self) -> Any:
        """The request body as it arrives; HttpError on a malformed, cut or oversized one."""
        total = 0
        late = HttpError(408, "the request body stopped arriving")
        while True:
            if not self.events:
                if self.upgraded:
                    return  # an upgrade request's body is not HTTP
                data = await self._receive(self.limits.body_timeout, late)
                if not data:
                    raise HttpError(400, "the request body ended early")
                continue
            event = self.events.popleft()
            if event is _END:
                return
            if not isinstance(event, bytes):
                raise HttpError(400, "the request body ended early")
            total += len(event)
            if total > self.limits.max_body:
                raise too_large(self.limits)
            yield event

    # -------------------------------------------------------------- output
    def write_head(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.answering = True
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}\r\n".encode()]
        lines += [name + b": " + value + b"\r\n" for name, value in headers]
        lines.append(b"\r\n")
        self.writer.write(b"".join(lines))

    async def answer(self, status: int, payload: dict[str, Any], keep: bool) -> None:
        """The edge's own JSON answer (404, 400, 413...); nothing once an answer has begun."""
        if self.answering:
            return
        body = json.dumps(payload, indent=2).encode() + b"\n"
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if not keep:
            headers.append((b"connection", b"close"))
        self.write_head(status, headers)
        self.writer.write(body)
        await self.writer.drain()
