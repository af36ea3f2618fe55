"""One worker process as the host (dev's supervisor, the edge) sees it: spawn, load, events, stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from wranglerpy.host.handoff import HANDOVER_SIGNAL, send_load
from wranglerpy.runtime.spec import WorkerSpec

EventCallback = Callable[[dict[str, Any]], None]
# Longest event or output line read from a worker; worker code's own lines are cut far below.
LINE_LIMIT = 16 * 1024 * 1024


class WorkerProcess:
    """A child running ``wranglerpy.runtime.child``; ``load`` turns a warm spare into a worker."""

    def __init__(self, on_event: EventCallback, *, http: bool = True) -> None:
        self.on_event = on_event
        self.http = http  # it will serve HTTP (dev): import its server while warming
        self.name: str | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self._control: socket.socket | None = None
        self._warm: asyncio.Future[None] | None = None
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._writer: asyncio.StreamWriter | None = None
        self.stopping = False
        self.exited: asyncio.Future[int] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    async def spawn(self, *, preload: bool = True) -> None:
        """Start the child. ``preload``: it imports the runtime before reporting ``warm`` (a
        spare, so a reload imports only user code); a process loaded at once skips that and
        imports only what its worker needs."""
        loop = asyncio.get_running_loop()
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._control = parent_end
        self._warm = loop.create_future()
        self._ready = loop.create_future()
        self.exited = loop.create_future()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wranglerpy.runtime.child",
            str(child_end.fileno()),
            *(["--http"] if self.http else []),
            *([] if preload else ["--no-preload"]),
            pass_fds=(child_end.fileno(),),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            limit=LINE_LIMIT,  # its own process group: stopped as a whole, not by Ctrl-C
            env={"PYTHONUNBUFFERED": "1", **os.environ},
        )
        child_end.close()
        # Keep the writer referenced: a collected StreamWriter closes the socket.
        reader, self._writer = await asyncio.open_unix_connection(sock=parent_end, limit=LINE_LIMIT)
        self._tasks = [
            asyncio.ensure_future(self._read_events(reader)),
            asyncio.ensure_future(self._read_output(self.proc.stdout, "log")),
            asyncio.ensure_future(self._read_output(self.proc.stderr, "error")),
            asyncio.ensure_future(self._wait_exit()),
        ]

    async def _read_events(self, reader: asyncio.StreamReader) -> None:
        async for line in _lines(reader):
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind = event.get("type")
            if kind == "warm" and self._warm and not self._warm.done():
                self._warm.set_result(None)
                continue
            if kind == "ready" and self._ready and not self._ready.done():
                self._ready.set_result(event)
            self.on_event(event)

    async def _read_output(self, stream: asyncio.StreamReader | None, level: str) -> None:
        # Output that bypassed the worker's capture (C extensions, a crash before start-up).
        assert stream is not None
        async for line in _lines(stream):
            message = line.decode(errors="replace").rstrip("\n")
            self.on_event({"type": "log", "worker": self.name, "level": level, "message": message})

    async def _wait_exit(self) -> None:
        assert self.proc is not None and self.exited is not None
        code = await self.proc.wait()
        for future in (self._warm, self._ready):
            if future is not None and not future.done():
                future.set_exception(ChildExited(code))
                future.exception()  # a spare nobody waits on must not warn at exit
        if not self.exited.done():
            self.exited.set_result(code)

    async def load(self, spec: WorkerSpec, fds: list[int], timeout: float = 60.0) -> dict[str, Any]:
        """Hand the worker spec and sockets to the (warm) child; wait until it serves."""
        assert self._control is not None and self._warm is not None and self._ready is not None
        if self.proc is not None and self.proc.returncode is not None:
            raise ChildExited(self.proc.returncode)
        await asyncio.wait_for(self._warm, timeout)
        self.name = spec.config.name
        message = json.dumps({"type": "load", "spec": spec.encode()}).encode()
        await send_load(self._control, message, fds)  # framed: any size of config
        return await asyncio.wait_for(asyncio.shield(self._ready), timeout)

    async def stop(self, grace: float = 5.0, *, handover: bool = False) -> None:
        """SIGTERM the process group (a reload's ``handover``: HANDOVER_SIGNAL), then SIGKILL
        after ``grace`` seconds. Idempotent."""
        self.stopping = True
        proc = self.proc
        if proc is None or proc.returncode is not None:
            await self._cleanup()
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, HANDOVER_SIGNAL if handover else signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        await self._cleanup()

    def kill_now(self) -> None:
        """Last resort on the way out: SIGKILL without waiting."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    async def _cleanup(self) -> None:
        if self._writer is not None:
            self._writer.close()
        elif self._control is not None:
            with contextlib.suppress(OSError):
                self._control.close()
        # Let the readers drain what the child wrote before it exited.
        await asyncio.wait(self._tasks, timeout=1.0)
        for task in self._tasks:
            task.cancel()


async def _lines(stream: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """The stream's lines until it ends; a line over LINE_LIMIT is dropped, the rest go on."""
    while True:
        try:
            line = await stream.readline()
        except ValueError:
            continue
        except ConnectionError:
            return
        if not line:
            return
        yield line


class ChildExited(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"worker process exited with code {code}")
        self.code = code
