"""Calls to a worker's Serve application through a deployment handle, as frames.

``HandleClient`` offers what ``wire.client.FrameClient`` offers (``fetch`` and ``call``), so
the ingress and service bindings speak the same protocol on a cluster as on one machine. The
answer streams back chunk by chunk (a Ray streaming generator). Ray sends a call's arguments
whole, so a short request body travels with the call; a body longer than ``STREAM_ABOVE``
streams in 1 MB items through this process's inbox actor (``ray/inbox.py``) while the call
runs, so neither side holds it whole. Either way at most ``MAX_BODY`` bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from wranglerpy.config.schema import ServiceBinding
from wranglerpy.host.http_limits import CLOUDFLARE_MAX_BODY
from wranglerpy.ray.inbox import CHUNK, new_connection, process_inbox, push
from wranglerpy.runtime.service import ServiceFetcher
from wranglerpy.wire import frames
from wranglerpy.wire.frames import CallHead, FetchHead, FrameError, ResponseHead, Result

MAX_BODY = CLOUDFLARE_MAX_BODY  # the edge's limit too (Free and Pro plans)
STREAM_ABOVE = CHUNK  # a longer body streams through the inbox instead of going whole


class BodyTooLarge(ValueError):
    pass


async def read_body(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in limited(stream)])


async def limited(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``stream``, failing with ``BodyTooLarge`` once it passes ``MAX_BODY`` bytes."""
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge(f"a request body over {MAX_BODY} bytes")
        yield chunk


async def _prefix(stream: AsyncIterator[bytes], size: int) -> tuple[list[bytes], bool]:
    """The first chunks of ``stream`` up to at least ``size`` bytes; and whether more follow."""
    parts: list[bytes] = []
    read = 0
    async for chunk in stream:
        parts.append(chunk)
        read += len(chunk)
        if read > size:
            return parts, True
    return parts, False


async def _chain(first: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in first:
        yield chunk
    async for chunk in rest:
        yield chunk


class HandleAnswer:
    """The answer to a fetch: its head, then its body (buffered, or streamed once)."""

    def __init__(self, head: ResponseHead, reader: asyncio.StreamReader, stop: Any) -> None:
        self.head = head
        self.body: bytes | None = None
        self.uploading = False  # the body went whole with the call
        self._reader: asyncio.StreamReader | None = reader
        self._stop = stop

    async def read_all(self) -> bytes:
        self.body = b"".join([chunk async for chunk in self.chunks()])
        return self.body

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        reader = self._reader
        if reader is None:
            return
        finished = False
        try:
            async for chunk in frames.read_body(reader):
                yield chunk
            finished = True
        finally:
            if finished:
                # The replica's call is not cut short: after the answer it still drains
                # waitUntil() work and reports its tail event; its generator ends by itself.
                self._reader = None
            else:
                self.close()

    def close(self) -> None:
        """Done with the answer (or giving up on it): the replica sees its caller leave."""
        self._reader = None
        self._stop()


class HandleClient:
    """Calls into the Serve application ``app`` (its deployment has the same name)."""

    def __init__(self, app: str, handle: Any = None, inbox: Any = None) -> None:
        self.app = app
        self._handle = handle  # a DeploymentHandle; tests pass a stand-in
        self.inbox = inbox  # where long bodies go (default: this process's inbox actor)

    def _stream(self) -> Any:
        if self._handle is None:
            from ray import serve

            self._handle = serve.get_deployment_handle(self.app, app_name=self.app)
        return self._handle.options(stream=True)

    async def open(
        self, head: bytes, body: bytes | None, *extra: Any
    ) -> tuple[asyncio.StreamReader, Any]:
        """Start a call (``extra``: further arguments of the replica's ``call``, as a
        WebSocket's inbox); its frames arrive on the returned reader, ``stop()`` ends it."""
        return await self._open(head, body, *extra)

    async def _open(
        self, head: bytes, body: bytes | None, *extra: Any
    ) -> tuple[asyncio.StreamReader, Any]:
        """Start the call; its frames arrive on the returned reader."""
        generator = self._stream().call.remote(head, body, *extra)
        reader = asyncio.StreamReader(limit=1 << 20)

        async def pump() -> None:
            try:
                async for chunk in generator:
                    reader.feed_data(chunk)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any Ray failure: the connection is lost
                reader.set_exception(ConnectionError(f"{self.app}: {type(exc).__name__}: {exc}"))
                return
            reader.feed_eof()

        task = asyncio.ensure_future(pump())

        def stop() -> None:
            if not task.done():
                task.cancel()
                with contextlib.suppress(Exception):
                    generator.cancel()

        return reader, stop

    async def fetch(
        self,
        head: FetchHead,
        body: bytes | None = None,
        stream: AsyncIterator[bytes] | None = None,
    ) -> HandleAnswer:
        pusher: asyncio.Future[None] | None = None
        if stream is not None:
            stream = limited(stream)
            first, more = await _prefix(stream, STREAM_ABOVE)
            if more:
                inbox = self.inbox = self.inbox or process_inbox()
                conn = new_connection()
                reader, stop = await self._open(head.encode(), None, inbox, conn)
                pusher = asyncio.ensure_future(push(inbox, conn, _chain(first, stream)))
            else:
                body = b"".join(first)
        if pusher is None:
            reader, stop = await self._open(head.encode(), body)
        try:
            reading = asyncio.ensure_future(frames.read_frame(reader))
            if pusher is not None:
                waited: set[asyncio.Future[Any]] = {reading, pusher}
                await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
                failed = pusher.exception() if pusher.done() else None
                if failed is not None and not reading.done():
                    reading.cancel()
                    raise failed  # BodyTooLarge, or the client's stream broke
            kind, payload = await reading
            if kind != frames.RESPONSE:
                raise FrameError("unexpected answer from the worker")
            answer_head = frames.decode_head(kind, payload)
            assert isinstance(answer_head, ResponseHead)
        except BaseException:
            stop()
            if pusher is not None:
                pusher.cancel()
            raise
        answer = HandleAnswer(answer_head, reader, stop)
        answer.uploading = pusher is not None
        if answer_head.buffered:
            await answer.read_all()
        return answer

    async def call(self, head: CallHead) -> Result:
        reader, stop = await self._open(head.encode(), None)
        try:
            kind, payload = await frames.read_frame(reader)
            if kind != frames.RESULT:
                raise FrameError("unexpected answer from the worker")
            return Result.decode(payload)  # the call goes on to drain its waitUntil() work
        except BaseException:
            stop()
            raise

    def close(self) -> None:
        self._handle = None


class _Target:
    """What ``ServiceFetcher`` needs of a target: its base URL."""

    def __init__(self, service: str) -> None:
        self.url = f"http://{service}"


class RayServiceFetcher(ServiceFetcher):
    """``env.<binding>`` of a ``[[services]]`` entry on a Ray cluster: the same fetch and RPC
    (exceptions re-raised with their type, one trace id across nodes), over a handle."""

    def __init__(
        self, binding: ServiceBinding, caller: str, app: str, client: HandleClient | None = None
    ) -> None:
        super().__init__(binding, caller, registry=None, mode="ray")  # type: ignore[arg-type]
        self._app = app
        self._handle_client = client or HandleClient(app)

    def __repr__(self) -> str:
        return f"<RayServiceFetcher {self._binding.binding} -> {self._app}>"

    def _target(self) -> Any:
        return _Target(self._binding.service)

    def _client(self, entry: Any) -> Any:
        return self._handle_client

    async def aclose(self) -> None:
        self._handle_client.close()
