"""The control channel between the CLI and the edge daemon: JSON over a unix socket.

One request per connection: the client writes one JSON object on one line, the daemon
answers with one JSON object on one line: ``{"ok": true, ...}`` or ``{"ok": false,
"error": "..."}``. The operations and their fields are the classes of ``control_messages``;
the CLI reaches them through ``client.EdgeStatus`` (``status()``, ``deploy()``, ...).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from wranglerpy.errors import DeployError, WranglerError

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


async def serve(path: Path, handler: Handler) -> asyncio.AbstractServer:
    path.unlink(missing_ok=True)

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            try:
                request = json.loads(line or b"{}")
                answer = await handler(request)
            except WranglerError as exc:
                answer = {"ok": False, "error": exc.message}
            except ValueError as exc:
                answer = {"ok": False, "error": f"bad control request: {exc}"}
            writer.write(json.dumps(answer).encode() + b"\n")
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    return await asyncio.start_unix_server(on_client, path=str(path), limit=1 << 20)


def call(path: Path, request: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
    """Send one request to the daemon and return its answer (blocking; for the CLI)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except (OSError, TimeoutError) as exc:
        raise DeployError(f"The local edge did not answer on {path} ({exc}).") from None
    try:
        answer: dict[str, Any] = json.loads(data)
    except ValueError:
        raise DeployError(
            "The local edge closed the control connection without answering."
        ) from None
    if not answer.get("ok"):
        raise DeployError(str(answer.get("error") or "the local edge refused the request"))
    return answer
