"""Frame kinds, the typed heads of each kind, and their encoding (see the package docstring)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any, ClassVar

import cbor2

# Heads of calls (caller -> worker).
FETCH = 0x01
SERVICE_FETCH = 0x02
RPC = 0x03
SCHEDULED = 0x04
QUEUE = 0x05
DURABLE_OBJECT = 0x06
ALARM = 0x07  # reserved
WEBSOCKET = 0x08
CONTROL = 0x09  # the CLI -> the edge daemon
# Bodies, both ways.
DATA = 0x10
END = 0x11
# Answers (worker -> caller).
RESPONSE = 0x20
RESULT = 0x21
# The worker will not run the call sent (or about to be sent) on this connection: it is
# draining or stopping. Sent only between calls, so nothing of that call has run; the caller
# may send it again on a fresh connection. Empty payload; the connection closes after it.
NOT_TAKEN = 0x22

_PREFIX = struct.Struct(">IB")
MAX_FRAME = 64 * 1024 * 1024


class FrameError(ConnectionError):
    """The peer closed the connection or sent something that is not a frame."""


class CallLost(FrameError):
    """The connection closed after the call was sent and before its answer began: the worker
    may have run it (it died mid-call), so it must not be sent again."""


class NotTaken(FrameError):
    """The worker answered NOT_TAKEN (it is stopping) and the call could not be sent again
    (a streamed body had started, or fresh connections were refused too)."""


class WireValueError(TypeError):
    """A value cannot travel over the wire (CBOR has no encoding for its type)."""


def dumps(value: Any) -> bytes:
    """CBOR for a value; a naive datetime is taken as UTC."""
    try:
        return cbor2.dumps(value, timezone=timezone.utc)
    except cbor2.CBOREncodeError as exc:
        raise WireValueError(str(exc)) from None


def loads(data: bytes) -> Any:
    try:
        return cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError) as exc:
        raise FrameError(f"malformed frame payload: {exc}") from None


def frame(kind: int, payload: bytes = b"") -> bytes:
    return _PREFIX.pack(len(payload), kind) + payload


END_FRAME = frame(END)
NOT_TAKEN_FRAME = frame(NOT_TAKEN)


def whole_body(body: bytes | None) -> bytes:
    """A body sent in one piece: its DATA frame (none when empty), then END."""
    return (frame(DATA, body) if body else b"") + END_FRAME


async def send_body(writer: asyncio.StreamWriter, chunks: AsyncIterator[bytes]) -> None:
    """A body sent as it comes: a DATA frame per chunk (at the pace the peer reads), then END."""
    async for chunk in chunks:
        if chunk:
            writer.write(frame(DATA, chunk))
            await writer.drain()
    writer.write(END_FRAME)
    await writer.drain()


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """``(kind, payload)``; raises FrameError at EOF or on a malformed frame."""
    try:
        prefix = await reader.readexactly(_PREFIX.size)
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise FrameError("connection closed") from exc
    length, kind = _PREFIX.unpack(prefix)
    if length > MAX_FRAME:
        raise FrameError(f"frame of {length} bytes exceeds the {MAX_FRAME}-byte limit")
    try:
        payload = await reader.readexactly(length) if length else b""
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise FrameError("connection closed mid-frame") from exc
    return kind, payload


async def read_body(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """A body's chunks as their DATA frames arrive, until END (the generator then ends
    normally); any other frame, or EOF, is a FrameError."""
    while True:
        kind, payload = await read_frame(reader)
        if kind == END:
            return
        if kind != DATA:
            raise FrameError("unexpected frame in a response body")
        if payload:
            yield payload


RawHeaders = list[tuple[bytes, bytes]]  # as ASGI: lower-case names, latin-1 bytes


@dataclass(slots=True)
class Head:
    """A head travels as the CBOR array of its fields, in declaration order (the dataclass's
    ``__match_args__``)."""

    KIND: ClassVar[int] = 0

    def values(self) -> list[Any]:
        names: tuple[str, ...] = self.__match_args__
        return [getattr(self, name) for name in names]

    @classmethod
    def from_values(cls, values: list[Any]) -> Head:
        return cls(*values)

    def encode(self) -> bytes:
        return frame(self.KIND, dumps(self.values()))


@dataclass(slots=True)
class CallHead(Head):
    """The head of a call: its metadata, then (in subclasses) what the call is."""

    trace: str = ""
    caller: str | None = None
    entrypoint: str | None = None
    deadline: float | None = None  # unix seconds


@dataclass(slots=True)
class FetchHead(CallHead):
    """A public HTTP request, relayed by the edge router."""

    KIND: ClassVar[int] = FETCH
    method: str = "GET"
    url: str = "http://localhost/"
    headers: RawHeaders = field(default_factory=list)
    client: str = ""  # the client's IP address


@dataclass(slots=True)
class ServiceFetchHead(FetchHead):
    """``env.SVC.fetch(request)`` from another worker."""

    KIND: ClassVar[int] = SERVICE_FETCH


@dataclass(slots=True)
class RpcHead(CallHead):
    KIND: ClassVar[int] = RPC
    method: str = ""
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ScheduledHead(CallHead):
    KIND: ClassVar[int] = SCHEDULED
    cron: str = ""
    scheduled_time: float = 0.0  # ms since the epoch, as ``controller.scheduledTime``


@dataclass(slots=True)
class QueueMessage:
    id: str
    timestamp: Any  # datetime
    body: Any
    attempts: int = 1


@dataclass(slots=True)
class QueueHead(CallHead):
    KIND: ClassVar[int] = QUEUE
    queue: str = ""
    messages: list[QueueMessage] = field(default_factory=list)

    def values(self) -> list[Any]:
        values = CallHead.values(self)  # (no zero-argument super() in slotted dataclasses)
        values[-1] = [[m.id, m.timestamp, m.body, m.attempts] for m in self.messages]
        return values

    @classmethod
    def from_values(cls, values: list[Any]) -> Head:
        values[-1] = [QueueMessage(*m) for m in values[-1]]
        return cls(*values)


@dataclass(slots=True)
class WebSocketHead(FetchHead):
    """A WebSocket handshake relayed by the edge router. If the worker accepts (101), both
    bodies stay open: each DATA frame is one message, CBOR ``["message", str | bytes]`` or
    ``["close", code, reason, clean]`` (``runtime/websocket_wire.py``)."""

    KIND: ClassVar[int] = WEBSOCKET
    # Set when the upgrade is for a Durable Object owned by the receiving process.
    object_worker: str = ""
    object_class: str = ""
    object_id: str = ""
    object_name: str | None = None


@dataclass(slots=True)
class DurableObjectHead(CallHead):
    """A call to one Durable Object, sent to the process that owns its namespace: ``call`` is
    an RPC or a buffered fetch, encoded by ``bindings.durable_objects.routing``; the answer is
    a RESULT whose value is the encoded reply."""

    KIND: ClassVar[int] = DURABLE_OBJECT
    worker: str = ""
    class_name: str = ""
    object_id: str = ""
    name: str | None = None
    call: bytes = b""


@dataclass(slots=True)
class ControlHead(CallHead):
    """An operation the CLI asks of the edge daemon (``wranglerpy edge status``, a deploy):
    ``op`` names it, ``fields`` are its request's fields by name (the request classes are
    ``deploy.control_messages``'s); the answer is a RESULT."""

    KIND: ClassVar[int] = CONTROL
    op: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ResponseHead(Head):
    KIND: ClassVar[int] = RESPONSE
    status: int = 200
    headers: RawHeaders = field(default_factory=list)
    buffered: bool = True  # the whole body follows at once; else it streams


HEADS: dict[int, type[Head]] = {
    cls.KIND: cls
    for cls in (
        FetchHead,
        ServiceFetchHead,
        RpcHead,
        ScheduledHead,
        QueueHead,
        ResponseHead,
        DurableObjectHead,
        WebSocketHead,
        ControlHead,
    )
}


def decode_head(kind: int, payload: bytes) -> Head:
    cls = HEADS.get(kind)
    if cls is None:
        raise FrameError(f"no call of frame kind {kind:#04x} is served here")
    values = loads(payload)
    if not isinstance(values, list) or len(values) != len(cls.__match_args__):
        raise FrameError(f"malformed {cls.__name__} frame")
    try:
        return cls.from_values(values)
    except TypeError as exc:
        raise FrameError(f"malformed {cls.__name__} frame: {exc}") from None


@dataclass(slots=True)
class Result:
    """The answer to a call that is not a fetch: a value, or an error by type name."""

    ok: bool
    value: Any = None
    error_name: str = ""
    error_message: str = ""

    def encode(self) -> bytes:
        if self.ok:
            try:
                return frame(RESULT, dumps([True, self.value]))
            except WireValueError as exc:
                return Result(
                    False, None, "TypeError", f"the result cannot be sent: {exc}"
                ).encode()
        return frame(RESULT, dumps([False, self.error_name, self.error_message]))

    @classmethod
    def decode(cls, payload: bytes) -> Result:
        data = loads(payload)
        if isinstance(data, list) and data and data[0] is True and len(data) == 2:
            return cls(True, data[1])
        if isinstance(data, list) and len(data) == 3 and data[0] is False:
            return cls(False, None, str(data[1]), str(data[2]))
        raise FrameError("malformed result frame")
