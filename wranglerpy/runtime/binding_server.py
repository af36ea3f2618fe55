"""Serves service-binding calls (see ``frames``) on the worker's unix socket, as ASGI."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any
from urllib.parse import urlsplit

from wranglerpy.runtime import frames

ASGIApp = Any


class _Call:
    """One call on a connection: its ASGI receive side is fed by the connection's reader."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.body_done = False
        self.disconnected = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        if not self.inbox.empty() or not self.body_done:
            message = await self.inbox.get()
            if message["type"] == "http.disconnect":
                self.disconnected.set()
            return message
        await self.disconnected.wait()
        return {"type": "http.disconnect"}


def _scope(head: dict[str, Any]) -> dict[str, Any]:
    url = urlsplit(head.get("url") or "http://localhost/")
    path = url.path or "/"
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": str(head.get("method") or "GET").upper(),
        "scheme": url.scheme or "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": url.query.encode(),
        "root_path": "",
        "headers": [
            (str(k).lower().encode("latin-1"), str(v).encode("latin-1"))
            for k, v in head.get("headers") or []
        ],
        "server": (url.hostname or "localhost", url.port or 80),
        "client": ("127.0.0.1", 0),
        "state": {},
    }


class BindingServer:
    """Accepts binding calls on an already-listening unix socket and runs them through ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._idle: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self._closing = False

    async def start(self, sock: socket.socket) -> None:
        self._server = await asyncio.start_unix_server(self._connection, sock=sock)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        call: _Call | None = None
        handler: asyncio.Task[Any] | None = None
        self._idle[task] = writer
        try:
            while not self._closing:
                try:
                    kind, payload = await frames.read_frame(reader)
                except frames.FrameError:
                    break
                self._idle.pop(task, None)
                if kind == frames.HEAD:
                    if handler is not None and not handler.done():
                        break  # a second call before the first answered: not our protocol
                    call = _Call()
                    handler = asyncio.ensure_future(
                        self._handle(frames.decode_head(payload), call, writer)
                    )
                    handler.add_done_callback(lambda _t: self._mark_idle(task, writer))
                elif call is not None and kind == frames.DATA:
                    call.inbox.put_nowait(
                        {"type": "http.request", "body": payload, "more_body": True}
                    )
                elif call is not None and kind == frames.END:
                    call.body_done = True
                    call.inbox.put_nowait({"type": "http.request", "body": b"", "more_body": False})
                else:
                    break
        finally:
            self._idle.pop(task, None)
            if call is not None:
                call.inbox.put_nowait({"type": "http.disconnect"})
                call.disconnected.set()
            if handler is not None and not handler.done():
                with contextlib.suppress(BaseException):
                    await handler
            writer.close()
            self._connections.discard(task)

    def _mark_idle(self, task: asyncio.Task[Any], writer: asyncio.StreamWriter) -> None:
        # Between calls a connection may be closed at once: no answer can be cut short.
        if self._closing:
            writer.close()
        elif task in self._connections:
            self._idle[task] = writer

    async def _handle(
        self, head: dict[str, Any], call: _Call, writer: asyncio.StreamWriter
    ) -> None:
        state: dict[str, Any] = {"started": False, "ended": False}

        async def send(message: dict[str, Any]) -> None:
            if call.disconnected.is_set():
                return
            if message["type"] == "http.response.start":
                state["started"] = True
                state["head"] = message
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                more = message.get("more_body", False)
                out: list[bytes] = []
                if "head" in state:
                    start = state.pop("head")
                    out.append(
                        frames.encode_head(
                            {
                                "status": start["status"],
                                "headers": [
                                    [k.decode("latin-1"), v.decode("latin-1")]
                                    for k, v in start.get("headers") or []
                                ],
                                "buffered": not more,
                            }
                        )
                    )
                if body:
                    out.append(frames.encode(frames.DATA, bytes(body)))
                if not more:
                    out.append(frames.encode(frames.END, b""))
                    state["ended"] = True
                writer.write(b"".join(out))
                try:
                    await writer.drain()
                except ConnectionError:
                    call.disconnected.set()

        try:
            await self.app(_scope(head), call.receive, send)
        except Exception:  # noqa: BLE001 - the app reports its own errors; end the call cleanly
            if not state["started"]:
                writer.write(frames.encode_head({"status": 500, "headers": [], "buffered": True}))
                writer.write(frames.encode(frames.END, b""))
            else:
                writer.close()
        else:
            if not state["ended"] and not call.disconnected.is_set():
                writer.close()  # the app stopped without finishing its answer

    async def close(self, grace: float = 5.0) -> None:
        """Stop accepting, close idle connections, let calls in flight finish (bounded)."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        for writer in list(self._idle.values()):
            writer.close()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=grace)
        for task in list(self._connections):
            task.cancel()
