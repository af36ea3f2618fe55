"""The control channel between the CLI and the edge daemon, over the one wire protocol.

The daemon serves its control socket with a ``wire.server.FrameServer`` whose one handler
takes ``CONTROL`` calls (``wire.frames.ControlHead``: the operation and its fields); the CLI
sends each with a ``wire.client.FrameClient``, one blocking call per request (``call``). The
operations, their fields and their answers are the classes of ``control_messages``.

The answer is the wire's RESULT: the answer's fields, or an error by type name and message.
A ``WranglerError`` raised by the daemon (a version that fails to load, a worker that is not
deployed) is raised again in the CLI as that error, with that one-line message.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from wranglerpy import errors
from wranglerpy.deploy.control_messages import (
    ControlAnswer,
    ControlRequest,
    decode_request,
    encode_request,
)
from wranglerpy.errors import DeployError, WranglerError
from wranglerpy.wire import frames
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import ControlHead, FrameError, Result
from wranglerpy.wire.server import Call, FrameServer

# Written to edge.json: a CLI reaching a daemon that speaks another control protocol (one
# started by an older wranglerpy) says so instead of waiting for an answer that cannot come.
PROTOCOL = "wire-control-1"

Handler = Callable[[ControlRequest], Awaitable[ControlAnswer]]
T = TypeVar("T")


# ------------------------------------------------------------------ the daemon's side
async def serve(path: Path, handler: Handler) -> FrameServer:
    """Answer control calls on a unix socket at ``path`` (one left over is replaced)."""
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    server = FrameServer({frames.CONTROL: partial(_answer, handler)})
    await server.start(sock)
    return server


async def _answer(handler: Handler, head: ControlHead, call: Call) -> None:
    try:
        answer = await handler(decode_request(head))
    except WranglerError as exc:
        call.reply(Result(False, None, _public_name(exc), exc.message))
        return
    except Exception:
        traceback.print_exc(file=sys.stderr)  # edge.log: a bug of the daemon, not the user's
        raise  # the FrameServer answers with its type name and message
    call.reply(Result(True, None if answer is None else answer.to_answer()))


def _public_name(exc: WranglerError) -> str:
    """The name of the error's class in ``wranglerpy.errors`` (the CLI knows those)."""
    for cls in type(exc).__mro__:
        if cls.__module__ == errors.__name__:
            return cls.__name__
    return WranglerError.__name__


# --------------------------------------------------------------------- the CLI's side
def call(path: Path, request: ControlRequest, timeout: float = 120.0) -> Any:
    """Send one request to the daemon and return its answer's fields (blocking; for the CLI).
    The daemon's ``WranglerError`` is raised here as the same error, same message."""
    result = _blocking(_call(path, request, timeout))
    if result.ok:
        return result.value
    known = getattr(errors, result.error_name, None)
    if isinstance(known, type) and issubclass(known, WranglerError):
        raise known(result.error_message)
    raise DeployError(
        f"The local edge could not carry out `{request.OP}`: "
        f"{result.error_name}: {result.error_message}"
    )


async def _call(path: Path, request: ControlRequest, timeout: float) -> Result:
    client = FrameClient(str(path))
    try:
        head = encode_request(request, deadline=time.time() + timeout)
        return await asyncio.wait_for(client.call(head), timeout)
    except FrameError:
        raise DeployError(
            "The local edge closed the control connection without answering."
        ) from None
    except asyncio.TimeoutError:  # (not yet the builtin TimeoutError on Python 3.10)
        raise DeployError(
            f"The local edge did not answer on {path} (no answer in {timeout:g} s)."
        ) from None
    except OSError as exc:
        raise DeployError(f"The local edge did not answer on {path} ({exc}).") from None
    finally:
        client.close()
        await asyncio.sleep(0)  # let the closed connection's transport finish closing


def _blocking(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to its end from synchronous code, also when this thread already runs an
    event loop (a benchmark or a test that asks the edge from a coroutine)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()
