"""One worker as a Ray Serve deployment: its replicas run the same ``WorkerApp`` as an edge
worker process, and answer the same wire frames (``wranglerpy.wire``).

A call is the encoded head (plus the request body, whole) as the arguments of ``call``; the
answer is the frames the worker writes, yielded as they are written through a Ray streaming
generator, so an SSE response crosses nodes chunk by chunk. The version's folder arrives as
the replica's working directory (``runtime_env``), and the config is rebased onto it.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncGenerator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from wranglerpy.wire import frames
from wranglerpy.wire.frames import FetchHead, FrameError, Result, WebSocketHead

CALLER_GONE_GRACE = 5.0  # how long a handler may run on once its caller left
AHEAD = 64  # answer chunks written ahead of the generator before the worker waits


class QueueWriter:
    """What ``wire.server.Call`` writes its answer to: a queue read by the generator."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.space = asyncio.Event()  # set while the queue is short enough to write to
        self.space.set()
        self._closed = False

    def write(self, data: bytes) -> None:
        if not self._closed and data:
            self.queue.put_nowait(data)
            if self.queue.qsize() >= AHEAD:
                self.space.clear()

    async def get(self) -> bytes | None:
        chunk = await self.queue.get()
        if self.queue.qsize() < AHEAD:
            self.space.set()
        return chunk

    async def drain(self) -> None:
        # A worker that writes faster than Ray takes the chunks waits here (backpressure).
        await self.space.wait()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.queue.put_nowait(None)
            self.space.set()

    def is_closing(self) -> bool:
        return self._closed


async def read_head(data: bytes) -> tuple[int, bytes]:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return await frames.read_frame(reader)


class WorkerReplica:
    """The deployment's class. ``spec`` is an encoded ``WorkerSpec`` whose paths point under
    ``source`` (the version's ``src`` on the machine that deployed); ``services`` maps each
    service binding to the Serve application it calls."""

    def __init__(
        self,
        spec: str,
        source: str,
        services: Mapping[str, str],
        *,
        primary: bool = True,  # D1/AE through the cluster's single primary (publish starts it)
        capture_output: bool = True,  # False in tests: pytest keeps its own stdout
    ) -> None:
        from wranglerpy.deploy.versions import rebase
        from wranglerpy.ray.handles import RayServiceFetcher
        from wranglerpy.ray.tail import TailSink
        from wranglerpy.runtime.child import _install_output_capture, _prepare_imports, make_app
        from wranglerpy.runtime.spec import WorkerSpec
        from wranglerpy.wire.server import FrameServer

        decoded = WorkerSpec.decode(spec)
        config = rebase(decoded.config, Path(source), Path.cwd())
        registry = Path(tempfile.mkdtemp(prefix="wrp-registry-"))  # no local registry here
        decoded = replace(decoded, config=config, registry_dir=registry)
        _prepare_imports(decoded.python_path)
        # KV/R2 backends chosen where the deploy ran (Redis, S3), when this wranglerpy has them:
        # every node then reads and writes the same stores.
        backends = getattr(decoded, "state", None)
        if backends is not None:
            backends.export()
        self.sink = TailSink()
        if primary:  # Durable Objects: one actor per object, storage saved to the primary
            from wranglerpy.ray.objects import route_objects

            route_objects(decoded, spec, source, services)
        if capture_output:
            _install_output_capture(self.sink, config.name, decoded.log_level)
        self.app, self.load_ms, _ = make_app(decoded, self.sink)
        # Service bindings reach other applications through deployment handles instead of
        # the machine's registry; the env is read-only to worker code, not to its host.
        values: dict[str, Any] = self.app.env._values  # noqa: SLF001
        for binding in config.services:
            target = services.get(binding.binding, binding.service)
            values[binding.binding] = RayServiceFetcher(binding, config.name, target)
        if primary:
            from wranglerpy.ray.primary import RemoteAnalyticsEngine, RemoteD1Database

            for db in config.d1_databases:
                values[db.binding] = RemoteD1Database(db.storage_id, db.database_name or db.binding)
            for dataset in config.analytics_engine_datasets:
                values[dataset.binding] = RemoteAnalyticsEngine(dataset.dataset)
        # Queues and Workflows: their stores are the primary's; consumers and engines run here.
        self.background: list[Any] = []
        if primary and (config.queue_producers or config.queue_consumers or config.workflows):
            from wranglerpy.ray import background

            stores = background.attach_bindings(config, values)
            self.background = background.start_background(
                self.app, config, decoded.persist_dir, stores
            )
        self.server = FrameServer(self.app.wire_handlers())

    async def call(
        self, head: bytes, body: bytes | None = None, inbox: Any = None, conn: str = ""
    ) -> AsyncGenerator[bytes, None]:
        """Serve one call; yields the answer's frames as the worker writes them. A WebSocket
        call's messages from the client, or a long request body, arrive through ``inbox``
        (``ray/inbox.py``) under ``conn``."""
        from wranglerpy.wire.server import Call

        try:
            kind, payload = await read_head(head)
            decoded = frames.decode_head(kind, payload)
        except FrameError as exc:
            yield Result(False, None, "Error", str(exc)).encode()
            return
        out = QueueWriter()
        is_socket = isinstance(decoded, WebSocketHead)
        call = Call(out, has_body=isinstance(decoded, FetchHead))  # type: ignore[arg-type]

        async def run() -> None:
            try:
                await self.server._run(decoded, call)  # noqa: SLF001 - the same refusals
            finally:
                out.close()

        async def feed() -> None:
            if call.body_done:
                return
            if inbox is not None:
                from wranglerpy.ray.inbox import pull

                # A WebSocket whose ingress died is closed abnormally, as on the edge.
                lost = frames.dumps(["close", 1006, "", False]) if is_socket else None
                async for item in pull(inbox, conn, lost):
                    await call._feed(item)  # noqa: SLF001
            elif body:
                await call._feed(body)  # noqa: SLF001
            await call._feed(None)  # noqa: SLF001

        feeder = asyncio.ensure_future(feed())
        task = asyncio.ensure_future(run())
        finished = False
        try:
            while True:
                chunk = await out.get()
                if chunk is None:
                    finished = True
                    return
                yield chunk
        finally:
            if not finished:
                call._caller_left()  # noqa: SLF001 - the handler sees its caller leave
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(asyncio.shield(task), CALLER_GONE_GRACE)
                task.cancel()
            feeder.cancel()

    def check_health(self) -> None:
        """Serve's health check: a replica whose worker failed to load still answers (500s,
        as on the edge), so it is healthy; a dead event loop is not."""

    def __del__(self) -> Any:
        """Serve's graceful shutdown (a rollout, a scale-down) calls this and awaits what it
        returns: the queue consumers settle their batches in flight and the workflow engines
        hand their instances back, as a stopping edge worker does. Python's own collection
        of the object finds nothing left to stop."""
        running = getattr(self, "background", None)
        if not running:
            return None
        self.background = []
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            for item in running:
                item.stop()
            return None
        from wranglerpy.bindings.background import stop_background

        return stop_background(running)
