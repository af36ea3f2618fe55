"""The model host: one process per machine that holds the models for every worker's AI binding.

``python -m wranglerpy.ai.host --socket PATH`` serves the engine (continuous batching, one
copy of each model in memory) on a unix socket; client.py starts it on first use and talks to
it. Frames (wire.py), client → host::

    {"op": "text", "id": 1, "model": {...}, "request": {...}}
    {"op": "embed", "id": 2, "model": {...}, "texts": [...]}
    {"op": "cancel", "id": 1}

host → client: ``{"kind": "hello", "pid"}`` once, ``log`` frames (the engine's log records),
then per request ``accepted`` (text: it
holds a place), ``piece`` (text), ``done`` (result) or ``vectors``, or ``error``. A connection
that closes cancels its generations. The host exits after ``--idle`` seconds without any
connection, so it outlives worker restarts but not the dev session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Any

from wranglerpy.ai import wire
from wranglerpy.ai.client import DEFAULT_IDLE_SECONDS
from wranglerpy.ai.engine import Engine, get_engine
from wranglerpy.ai.text import TextEvents, TextResult
from wranglerpy.ai.wire import socket_is_live

log = logging.getLogger("wranglerpy.ai.host")


class Connection:
    """One client (one worker process): its frames in, its answers out."""

    def __init__(
        self, engine: Engine, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.engine = engine
        self.reader = reader
        self.writer = writer
        self.streams: dict[int, TextEvents] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def send(self, frame: dict[str, Any]) -> None:
        if not self.writer.is_closing():
            self.writer.write(wire.encode_frame(frame))

    async def serve(self) -> None:
        self.send({"kind": "hello", "pid": os.getpid()})
        try:
            while True:
                frame = await wire.read_frame(self.reader)
                if frame is None:
                    return
                self.dispatch(frame)
                await self.writer.drain()
        except ConnectionError:
            pass  # the worker went away (restart, reload, exit): its generations stop below
        except (wire.WireError, ValueError) as exc:
            log.warning("model host: dropping a client that sent a bad frame: %s", exc)
        finally:
            for events in self.streams.values():
                events.cancel()
            for task in self.tasks:
                task.cancel()
            self.writer.close()

    def dispatch(self, frame: dict[str, Any]) -> None:
        op, rid = frame.get("op"), int(frame.get("id", 0))
        if op == "cancel":
            events = self.streams.get(rid)
            if events is not None:
                events.cancel()
            return
        try:
            model = wire.model_from_wire(frame["model"])
            if op == "text":
                events = self.engine.stream(model, wire.request_from_wire(frame["request"]))
                self.streams[rid] = events
                self.send({"kind": "accepted", "id": rid})
                self.spawn(self.pump(rid, events))
            elif op == "embed":
                self.spawn(self.embed(rid, model, list(frame["texts"])))
            else:
                raise ValueError(f"unknown op {op!r}")
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller
            self.send({"kind": "error", "id": rid, "error": wire.error_to_wire(exc)})

    def spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def pump(self, rid: int, events: TextEvents) -> None:
        try:
            async for item in events:
                if isinstance(item, TextResult):
                    self.send({"kind": "done", "id": rid, "result": wire.result_to_wire(item)})
                else:
                    self.send({"kind": "piece", "id": rid, "text": item})
                await self.writer.drain()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            self.send({"kind": "error", "id": rid, "error": wire.error_to_wire(exc)})
        finally:
            self.streams.pop(rid, None)

    async def embed(self, rid: int, model: Any, texts: list[str]) -> None:
        try:
            vectors = await self.engine.embed(model, texts)
            self.send({"kind": "vectors", "id": rid, "vectors": wire.vectors_to_wire(vectors)})
        except Exception as exc:  # noqa: BLE001
            self.send({"kind": "error", "id": rid, "error": wire.error_to_wire(exc)})


class ClientLogs(logging.Handler):
    """Sends the engine's log records (``pulling <model>``...) to every connected client,
    which logs them in its worker, so they reach the dev session's output like before."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.INFO)
        self.loop = loop
        self.connections: set[Connection] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(log.name):
            return  # the host's own housekeeping stays in its log file
        frame = {"kind": "log", "level": record.levelno, "message": record.getMessage()}
        with contextlib.suppress(RuntimeError):  # the loop has stopped: nobody to tell
            self.loop.call_soon_threadsafe(self._broadcast, frame)

    def _broadcast(self, frame: dict[str, Any]) -> None:
        for conn in self.connections:
            conn.send(frame)


async def serve(path: Path, engine: Engine, idle_seconds: float) -> None:
    clients = 0
    idle, busy = asyncio.Event(), asyncio.Event()
    idle.set()
    logs = ClientLogs(asyncio.get_running_loop())
    engine_log = logging.getLogger("wranglerpy.ai")
    engine_log.addHandler(logs)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal clients
        clients += 1
        idle.clear()
        busy.set()
        conn = Connection(engine, reader, writer)
        logs.connections.add(conn)
        try:
            await conn.serve()
        finally:
            logs.connections.discard(conn)
            clients -= 1
            if clients == 0:
                busy.clear()
                idle.set()

    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a dead host's socket: the spawner holds the start lock
    server = await asyncio.start_unix_server(handle, path=str(path))
    os.chmod(path, 0o600)
    log.info("model host %d serving on %s", os.getpid(), path)
    async with server:
        while True:
            await idle.wait()
            try:
                await asyncio.wait_for(busy.wait(), timeout=idle_seconds)
            except TimeoutError:
                break
    engine.cancel_all()
    engine_log.removeHandler(logs)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    log.info("model host %d: no clients for %.0f s, exiting", os.getpid(), idle_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wranglerpy.ai.host")
    parser.add_argument("--socket", required=True, type=Path)
    parser.add_argument("--idle", type=float, default=DEFAULT_IDLE_SECONDS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if socket_is_live(args.socket):
        log.info("a model host already serves %s", args.socket)
        return 0
    asyncio.run(serve(args.socket, get_engine(), args.idle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
