"""Serves the event stream to ``wranglerpy tail`` clients over a unix socket.

A client connects, sends one JSON line ``{"workers": [names]}`` (empty: all), and then
receives every matching ``request``/``log``/``system`` event as a JSON line until it leaves.
Each event is written to the client's socket inside ``hub.publish``: no queue and no task
wake-up per event (an open dashboard page is one such client, for every request served).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wranglerpy.logs.hub import Event, LogHub

TAILED_TYPES = frozenset({"request", "log", "system", "load_error"})
# A client this far behind (bytes not yet taken by its socket) misses events until it catches up.
MAX_BACKLOG = 16 * 1024 * 1024


class TailServer:
    def __init__(self, hub: LogHub, socket_path: Path) -> None:
        self.hub = hub
        self.socket_path = socket_path
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self._server = await asyncio.start_unix_server(self._client, path=str(self.socket_path))

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._clients.add(task)
        unsubscribe = None
        try:
            hello = json.loads((await reader.readline()) or b"{}")
            unsubscribe = self.hub.subscribe(_forward(writer, set(hello.get("workers") or [])))
            writer.write(b'{"type":"hello"}\n')
            await reader.read()  # until EOF: the client went away
        except (ConnectionError, ValueError):
            pass
        except asyncio.CancelledError:
            # close() cancels connected clients; on Python 3.11 asyncio's client callback calls
            # task.exception() on a cancelled task and prints its traceback at every Ctrl-C.
            pass
        finally:
            if unsubscribe is not None:
                unsubscribe()
            writer.close()
            if task is not None:
                self._clients.discard(task)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._clients):
            task.cancel()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()


def _forward(writer: asyncio.StreamWriter, wanted: set[str]) -> Callable[[Event], None]:
    """The hub subscriber of one client: its events, written as they are published."""
    transport = writer.transport

    def forward(event: Event) -> None:
        if event.get("type") not in TAILED_TYPES or (wanted and event.get("worker") not in wanted):
            return
        if not transport.is_closing() and transport.get_write_buffer_size() < MAX_BACKLOG:
            writer.write(json.dumps(event, default=str).encode() + b"\n")

    return forward
