"""The start-up message from the host to a worker process: length-prefixed, with its sockets.

The spec (config, vars, ...) can be any size: a config of 12 vars of 5 KB is legal on
Cloudflare. One ``recvmsg`` returns only what the stream has so far, so the message is framed:
an 8-byte big-endian length (sent with the listening sockets as ``SCM_RIGHTS``), then exactly
that many bytes.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import struct

_PREFIX = struct.Struct(">Q")
MAX_MESSAGE = 256 * 1024 * 1024  # far above any config; a larger prefix is a broken stream
MAX_FDS = 8
# Sent instead of SIGTERM on a reload: the worker hands its keep-alive clients over (each gets
# one more answer, with `Connection: close`) before it stops.
HANDOVER_SIGNAL = signal.SIGUSR1


class HandoffError(Exception):
    pass


async def send_load(sock: socket.socket, message: bytes, fds: list[int]) -> None:
    """Send ``message`` and ``fds`` on the host's (non-blocking) end of the control socket."""
    loop = asyncio.get_running_loop()
    # The prefix alone carries the descriptors: 8 bytes always fit a fresh socket's buffer.
    sent = socket.send_fds(sock, [_PREFIX.pack(len(message))], fds)
    if sent != _PREFIX.size:
        raise HandoffError("the worker's control socket took a partial start-up prefix")
    await loop.sock_sendall(sock, message)


def recv_load(sock: socket.socket) -> tuple[bytes, list[int]] | None:
    """The message and descriptors, read on the child's blocking end; None at EOF (a spare
    the host no longer needs)."""
    head = b""
    fds: list[int] = []
    while len(head) < _PREFIX.size:
        data, got, _flags, _addr = socket.recv_fds(sock, _PREFIX.size - len(head), MAX_FDS)
        fds.extend(got)
        if not data:
            if head:
                raise HandoffError("the start-up message ended inside its length prefix")
            return None
        head += data
    (length,) = _PREFIX.unpack(head)
    if length > MAX_MESSAGE:
        raise HandoffError(f"a start-up message of {length} bytes is not believable")
    # MSG_WAITALL: the whole message in one call; fewer bytes only if the host went away.
    body = sock.recv(length, socket.MSG_WAITALL) if length else b""
    if len(body) != length:
        raise HandoffError(f"the start-up message ended after {len(body)} bytes")
    return body, fds
