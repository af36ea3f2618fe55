"""Serves the event stream to ``wranglerpy tail`` clients over a unix socket.

A client connects, sends one JSON line ``{"workers": [names]}`` (empty: all), and then
receives every matching ``request``/``log``/``system`` event as a JSON line until it leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from wranglerpy.logs.hub import LogHub, QueueSubscriber

TAILED_TYPES = frozenset({"request", "log", "system", "load_error"})


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
        subscriber = QueueSubscriber()
        unsubscribe = self.hub.subscribe(subscriber)
        try:
            hello = json.loads((await reader.readline()) or b"{}")
            wanted = set(hello.get("workers") or [])
            writer.write(b'{"type":"hello"}\n')
            await writer.drain()
            closed = asyncio.ensure_future(reader.read())  # EOF: the client went away
            while not closed.done():
                getter = asyncio.ensure_future(subscriber.queue.get())
                await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    break
                event = getter.result()
                if event.get("type") not in TAILED_TYPES:
                    continue
                if wanted and event.get("worker") not in wanted:
                    continue
                writer.write(json.dumps(event, default=str).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, ValueError):
            pass
        except asyncio.CancelledError:
            # close() cancels connected clients; on Python 3.11 asyncio's client callback calls
            # task.exception() on a cancelled task and prints its traceback at every Ctrl-C.
            pass
        finally:
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
