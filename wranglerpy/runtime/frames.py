"""The wire format of service-binding calls between worker processes on one machine.

Both ends are wranglerpy, so calls skip HTTP parsing: each message is a frame of a 4-byte
big-endian length, a 1-byte kind and a payload. A call is a ``HEAD`` frame (JSON: method, url,
headers), body ``DATA`` frames and an ``END`` frame; the answer is a ``HEAD`` frame (JSON:
status, headers, ``buffered``), ``DATA`` frames and ``END``. One call at a time per
connection; connections are reused. Closing a connection mid-call cancels it (the target
sees a client disconnect, so a stream that nobody reads stops being produced).
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

HEAD = b"H"
DATA = b"D"
END = b"E"

_HEADER = struct.Struct(">IB")
MAX_FRAME = 64 * 1024 * 1024


class FrameError(ConnectionError):
    """The peer closed the connection or sent something that is not a frame."""


def encode(kind: bytes, payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), kind[0]) + payload


def encode_head(data: dict[str, Any]) -> bytes:
    return encode(HEAD, json.dumps(data, separators=(",", ":")).encode())


async def read_frame(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """``(kind, payload)``; raises FrameError at EOF or on a malformed frame."""
    try:
        header = await reader.readexactly(_HEADER.size)
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise FrameError("connection closed") from exc
    length, kind = _HEADER.unpack(header)
    if length > MAX_FRAME:
        raise FrameError(f"frame of {length} bytes exceeds the {MAX_FRAME}-byte limit")
    try:
        payload = await reader.readexactly(length) if length else b""
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise FrameError("connection closed mid-frame") from exc
    return bytes([kind]), payload


def decode_head(payload: bytes) -> dict[str, Any]:
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise FrameError(f"malformed head frame: {exc}") from None
    if not isinstance(data, dict):
        raise FrameError("malformed head frame: not an object")
    return data
