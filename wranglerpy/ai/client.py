"""The AI binding's side of the model host: the same calls as the in-process engine, over a
unix socket to the one host process of this machine (host.py).

The first binding that needs a model starts the host (under a file lock, so two workers
starting at once start one host) and every binding of every worker then shares it: one copy
of each model in memory, one batch for everybody's generations. The connection is opened
lazily, once per worker process and event loop. If the host dies, the requests it was
serving fail with a clear error and the next request starts a new host.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import itertools
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from wranglerpy.ai import wire
from wranglerpy.ai.cache import default_cache_dir
from wranglerpy.ai.models import LocalModel
from wranglerpy.ai.text import TextEvents, TextRequest, TextResult, collect_result
from wranglerpy.ai.wire import socket_is_live
from wranglerpy.errors import AIError

log = logging.getLogger("wranglerpy.ai")

STARTUP_SECONDS = 60.0  # importing onnxruntime on a loaded 2-core box can take a while
DEFAULT_IDLE_SECONDS = 60.0  # the host leaves after this long without any client


def default_socket_path() -> Path:
    """One host per machine, wranglerpy installation and model cache (see :func:`socket_name`)."""
    import wranglerpy
    from wranglerpy.host.sockets import runtime_dir

    install = Path(wranglerpy.__file__).resolve().parent
    return runtime_dir() / socket_name(default_cache_dir(), install, wranglerpy.__version__)


def socket_name(cache: Path, install: Path, version: str) -> str:
    """The host's socket name: a digest of the model cache folder, the frame protocol's
    version, the wranglerpy package folder and its version. Every checkout on a machine (all
    run as the same user, so they share ``runtime_dir()``) gets a host running its own code;
    an upgrade in place gets a new host instead of the old one still in memory."""
    key = "\0".join(
        [str(cache.expanduser().resolve()), str(wire.PROTOCOL), str(install.resolve()), version]
    )
    return f"ai-host-{hashlib.sha256(key.encode()).hexdigest()[:10]}.sock"


class HostClient:
    def __init__(self, socket_path: Path | None = None, idle_seconds: float | None = None) -> None:
        self.socket_path = socket_path or default_socket_path()
        self.idle_seconds = idle_seconds if idle_seconds is not None else DEFAULT_IDLE_SECONDS
        self._conn: _Connection | None = None
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    @property
    def log_path(self) -> Path:
        return self.socket_path.with_suffix(".log")

    async def host_pid(self) -> int:
        """The pid of the host serving this client (starting it if needed)."""
        return (await self._connection()).pid

    def stream(self, model: LocalModel, request: TextRequest) -> TextEvents:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        accepted: asyncio.Future[None] = loop.create_future()
        accepted.add_done_callback(_retrieve)
        handle = _TextHandle(queue, accepted)

        async def send() -> None:
            try:
                conn = await self._connection()
                handle.conn = conn
                conn.send(
                    handle,
                    {
                        "op": "text",
                        "model": wire.model_to_wire(model),
                        "request": wire.request_to_wire(request),
                    },
                )
            except Exception as exc:  # noqa: BLE001 - the caller hears it from the events
                handle.fail(exc)

        handle.sender = loop.create_task(send())
        return TextEvents(queue, handle.cancel, accepted)

    async def complete(self, model: LocalModel, request: TextRequest) -> TextResult:
        return await collect_result(self.stream(model, request))

    async def embed(self, model: LocalModel, texts: Sequence[str]) -> np.ndarray:
        conn = await self._connection()
        handle = _EmbedHandle(asyncio.get_running_loop().create_future())
        conn.send(handle, {"op": "embed", "model": wire.model_to_wire(model), "texts": list(texts)})
        return await handle.future

    async def _connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        conn = self._conn
        if conn is not None and conn.loop is loop and not conn.closed:
            return conn
        lock = self._locks.setdefault(loop, asyncio.Lock())
        async with lock:
            conn = self._conn
            if conn is not None and conn.loop is loop and not conn.closed:
                return conn
            reader, writer, pid = await self._open()
            conn = self._conn = _Connection(loop, reader, writer, pid)
            return conn

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, int]:
        """Connect and read the host's greeting, starting a host when none answers. A host
        that is dying (killed, its socket still accepting) gets a few tries to be gone."""
        failure: BaseException | None = None
        for attempt in range(4):
            try:
                reader, writer = await asyncio.open_unix_connection(str(self.socket_path))
            except OSError as exc:  # no host yet, or a dead one's socket
                failure = exc
                await asyncio.to_thread(self._start_host)
                continue
            try:
                hello = await wire.read_frame(reader)
            except (OSError, wire.WireError) as exc:
                hello, failure = None, exc
            if hello is not None and hello.get("kind") == "hello":
                return reader, writer, int(hello["pid"])
            writer.close()
            await asyncio.sleep(0.1 * (attempt + 1))
            await asyncio.to_thread(self._start_host)
        raise AIError(
            f"could not reach the Workers AI model host at {self.socket_path} ({failure}); "
            f"see {self.log_path}"
        )

    def _start_host(self) -> None:
        """Start the host unless another worker did (blocking; runs in a thread)."""
        lock_path = self.socket_path.with_suffix(".lock")
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if socket_is_live(self.socket_path):
                return
            with self.log_path.open("ab") as log:
                proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "wranglerpy.ai.host",
                        "--socket",
                        str(self.socket_path),
                        "--idle",
                        str(self.idle_seconds),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # outlives this worker's restarts (own group)
                )
            # Reap it when it exits, so a long-lived worker keeps no zombie.
            threading.Thread(
                target=proc.wait, name="wranglerpy-ai-host-reaper", daemon=True
            ).start()
            deadline = time.monotonic() + STARTUP_SECONDS
            while not socket_is_live(self.socket_path):
                code = proc.poll()
                if code is not None:
                    raise AIError(
                        f"the Workers AI model host exited at start (code {code}); see {self.log_path}"
                    )
                if time.monotonic() > deadline:
                    raise AIError(
                        f"the Workers AI model host did not start within {STARTUP_SECONDS:.0f} s; see {self.log_path}"
                    )
                time.sleep(0.05)


def _retrieve(future: asyncio.Future[None]) -> None:
    # A failed acceptance is reported through the event queue too; mark it as seen.
    if not future.cancelled():
        future.exception()


class _Handle(Protocol):
    """What a request id's answers go to."""

    def fail(self, exc: Exception) -> None: ...

    def receive(self, frame: dict[str, Any]) -> bool:
        """Take one answer; True when it was the last one for this id."""
        ...


class _TextHandle:
    def __init__(self, queue: asyncio.Queue[tuple[str, Any]], accepted: asyncio.Future[None]):
        self.queue = queue
        self.accepted = accepted
        self.conn: _Connection | None = None
        self.rid: int | None = None
        self.sender: asyncio.Task[None] | None = None
        self.cancelled = False

    def fail(self, exc: Exception) -> None:
        if not self.accepted.done():
            self.accepted.set_exception(exc)
        self.queue.put_nowait(("error", exc))

    def receive(self, frame: dict[str, Any]) -> bool:
        kind = frame.get("kind")
        if kind == "accepted":
            if not self.accepted.done():
                self.accepted.set_result(None)
            return False
        if kind == "piece":
            self.queue.put_nowait(("piece", str(frame["text"])))
            return False
        if kind == "done":
            self.queue.put_nowait(("done", wire.result_from_wire(frame["result"])))
        else:
            self.fail(wire.error_from_wire(frame.get("error") or {}))
        return True

    def cancel(self) -> None:
        """Tell the host to stop (thread-safe: may run from the garbage collector)."""
        if self.cancelled:
            return
        self.cancelled = True
        conn, rid = self.conn, self.rid
        if conn is None or rid is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is gone: so is the connection
            conn.loop.call_soon_threadsafe(conn.cancel, rid)


class _EmbedHandle:
    def __init__(self, future: asyncio.Future[np.ndarray]) -> None:
        self.future = future

    def fail(self, exc: Exception) -> None:
        if not self.future.done():
            self.future.set_exception(exc)

    def receive(self, frame: dict[str, Any]) -> bool:
        if frame.get("kind") == "vectors":
            if not self.future.done():
                self.future.set_result(wire.vectors_from_wire(frame["vectors"]))
        else:
            self.fail(wire.error_from_wire(frame.get("error") or {}))
        return True


class _Connection:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        pid: int,
    ) -> None:
        self.loop = loop
        self.reader = reader
        self.writer = writer
        self.pid = pid
        self.closed = False
        self._ids = itertools.count(1)
        self._handles: dict[int, _Handle] = {}
        self._reader_task = loop.create_task(self._read())

    def send(self, handle: _Handle, frame: dict[str, Any]) -> None:
        if self.closed:
            raise self._gone()
        rid = next(self._ids)
        self._handles[rid] = handle
        if isinstance(handle, _TextHandle):
            handle.rid = rid
        self.writer.write(wire.encode_frame({**frame, "id": rid}))
        if isinstance(handle, _TextHandle) and handle.cancelled:
            self.cancel(rid)  # abandoned before it was even sent

    def cancel(self, rid: int) -> None:
        if not self.closed and rid in self._handles:
            self.writer.write(wire.encode_frame({"op": "cancel", "id": rid}))

    def _gone(self) -> AIError:
        return AIError(
            f"the Workers AI model host (pid {self.pid}) exited; the next request starts a new one"
        )

    async def _read(self) -> None:
        try:
            while True:
                frame = await wire.read_frame(self.reader)
                if frame is None:
                    break
                if frame.get("kind") == "log":
                    log.log(int(frame.get("level", logging.INFO)), "%s", frame.get("message"))
                    continue
                rid = int(frame.get("id", 0))
                handle = self._handles.get(rid)
                if handle is not None and handle.receive(frame):
                    del self._handles[rid]
        except (wire.WireError, ConnectionError, ValueError):
            pass
        finally:
            self.closed = True
            self.writer.close()
            handles, self._handles = self._handles, {}
            for handle in handles.values():
                handle.fail(self._gone())


_client: HostClient | None = None
_client_lock = threading.Lock()


def get_host_client() -> HostClient:
    """The process-wide client, shared by every AI binding in this worker process."""
    global _client
    with _client_lock:
        if _client is None:
            idle = os.environ.get("WRANGLERPY_AI_HOST_IDLE")
            _client = HostClient(idle_seconds=float(idle) if idle else None)
        return _client
