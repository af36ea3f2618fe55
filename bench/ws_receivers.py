"""Light WebSocket clients for timing a broadcast to many sockets from one process.

A thousand full clients (the ``websockets`` library, one ``recv()`` task each) in the bench's
single Python process cost more CPU per message than the server does: on a 2-core machine
that client work, not the server, set most of the measured broadcast time. On the real
network each client is its own machine. These receivers do only what a client must do to
*have* a message: a real handshake (offering ``permessage-deflate`` as browsers do), reading
whole frames off the socket, answering pings. They count frames as they arrive and keep the
payloads; decoding and checking the text happens after the timed window
(:meth:`Receiver.messages`), so every timed run is still verified.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
import zlib
from urllib.parse import urlsplit


class Tally:
    """Resolves ``done`` with the arrival time of the last of ``expected`` messages
    (``first`` is the first one's)."""

    def __init__(self, expected: int) -> None:
        self.remaining = expected
        self.first: float | None = None
        self.done: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def arrived(self) -> None:
        if self.first is None:
            self.first = time.perf_counter()
        self.remaining -= 1
        if self.remaining == 0 and not self.done.done():
            self.done.set_result(time.perf_counter())


class Receiver(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buf = bytearray()
        self._handshaken = False
        self.frames: list[tuple[bool, bytes]] = []  # (compressed, payload), whole messages
        self._decoded = 0
        self._inflate = zlib.decompressobj(-15)
        self._tally: Tally | None = None
        self._target = 0

    # --- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            del buf[: end + 4]
            self._handshaken = True
            self.opened.set_result(head)
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            size, pos = b1 & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    return
                size, pos = int.from_bytes(buf[2:4], "big"), 4
            elif size == 127:
                if len(buf) < 10:
                    return
                size, pos = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < pos + size:
                return
            payload = bytes(buf[pos : pos + size])
            del buf[: pos + size]
            opcode = b0 & 0x0F
            if opcode in (1, 2):  # the server sends each message as one frame
                self.frames.append((bool(b0 & 0x40), payload))
                if self._tally is not None and len(self.frames) == self._target:
                    self._tally.arrived()
            elif opcode == 9:
                self._write_frame(0xA, payload)  # pong
            elif opcode == 8 and self.transport is not None:
                self.transport.close()

    # --- the bench's side --------------------------------------------------------------

    def expect(self, total: int, tally: Tally) -> None:
        """Tell ``tally`` when this client has had ``total`` messages in all."""
        self._tally = tally
        self._target = total
        if len(self.frames) >= total:
            tally.arrived()

    def expect_one_more(self, tally: Tally) -> None:
        self.expect(len(self.frames) + 1, tally)

    def messages(self) -> list[str]:
        """The text of the messages received since the last call (inflated in order, as a
        client with a persistent ``permessage-deflate`` context does)."""
        out = []
        for compressed, payload in self.frames[self._decoded :]:
            data = (
                self._inflate.decompress(payload + b"\x00\x00\xff\xff") if compressed else payload
            )
            out.append(data.decode())
        self._decoded = len(self.frames)
        return out

    async def close(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self._write_frame(0x8, (1000).to_bytes(2, "big"))
        try:
            await asyncio.wait_for(self.closed, 5)
        except TimeoutError:
            self.transport.close()

    def _write_frame(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None and len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


BROWSER_EXTENSIONS = "permessage-deflate; client_max_window_bits"


async def connect(
    url: str, extensions: str = BROWSER_EXTENSIONS, address: str | None = None
) -> Receiver:
    """Open a WebSocket to ``ws://host:port/path`` and return its receiver once upgraded
    (offering ``extensions`` as a browser does; "" offers none). ``address``: connect there
    instead of to ``host`` (the Host header stays ``host``, as the edge routes by it)."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    _, receiver = await loop.create_connection(Receiver, address or parts.hostname, parts.port)
    key = base64.b64encode(os.urandom(16)).decode()
    assert receiver.transport is not None
    receiver.transport.write(
        (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            + (f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions else "")
            + "\r\n"
        ).encode()
    )
    head = await receiver.opened
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"upgrade refused: {head.splitlines()[0]!r}")
    return receiver
