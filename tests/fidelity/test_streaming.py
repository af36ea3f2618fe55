"""Portable streaming: ``ReadableStream``/``TransformStream`` bodies, as on Cloudflare."""

from __future__ import annotations

import asyncio

import pytest
from js import ReadableStream, TextEncoder, TransformStream
from pyodide.ffi import create_proxy, to_js
from workers import Response

SSE_WORKER = """
import asyncio
from js import TextEncoder, TransformStream
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        stream = TransformStream.new()
        writer = stream.writable.getWriter()
        encoder = TextEncoder.new()

        async def produce():
            try:
                for i in range(3):
                    await writer.write(encoder.encode(f"data: {i}\\n\\n"))
                    await asyncio.sleep(0)
            finally:
                await writer.close()

        self.ctx.waitUntil(produce())
        return Response(stream.readable, headers={"content-type": "text/event-stream"})
"""


async def test_sse_through_a_transform_stream(harness) -> None:
    """SDK/asgi.py:249-259: the SDK itself streams by writing to a TransformStream."""
    async with harness.build(SSE_WORKER) as client:
        response = await client.get("/")
    assert response.headers["content-type"] == "text/event-stream"
    assert response.text == "data: 0\n\ndata: 1\n\ndata: 2\n\n"


async def test_pull_source_runs_as_the_reader_asks() -> None:
    """A pull-based ReadableStream (SDK/wsgi.py:265-285 builds its bodies so)."""
    pulled = []

    def pull(controller):
        pulled.append(len(pulled))
        if len(pulled) > 3:
            controller.close()
        else:
            controller.enqueue(to_js(b"x"))

    response = Response(ReadableStream.new(pull=create_proxy(pull)))
    assert pulled == []
    assert await response.text() == "xxx"


@pytest.mark.parametrize("chunk", [b"raw bytes", "a str"])
async def test_chunks_that_are_not_js_buffers_fail_the_body(chunk: object) -> None:
    """workerd/src/workerd/api/js-readable-stream.c++:392: Python bytes/str cross into JS as a
    proxy/string, not a buffer, so the response body fails."""

    def start(controller):
        controller.enqueue(chunk)
        controller.close()

    response = Response(ReadableStream.new(start=start))
    with pytest.raises(TypeError, match=r"^This ReadableStream did not return bytes\.$"):
        await response.text()


async def test_cancelling_the_readable_side_fails_the_next_write() -> None:
    """A client that goes away cancels the stream; the producer's next write rejects."""
    stream = TransformStream.new()
    writer = stream.writable.getWriter()
    encoder = TextEncoder.new()
    await writer.write(encoder.encode("a"))
    blocked = asyncio.ensure_future(writer.write(encoder.encode("b")))
    await asyncio.sleep(0)
    await stream.readable.cancel()
    await blocked
    with pytest.raises(TypeError):
        await writer.write(encoder.encode("c"))


async def test_request_body_is_a_readable_stream_of_buffers() -> None:
    """SDK/request.py:54-55: request.body is the JS ReadableStream (async-iterable chunks
    with .to_bytes(), SDK/wsgi.py:111)."""
    from workers import Request

    request = Request("https://example.com/", method="POST", body="abc")
    body = request.body
    assert body.constructor.name == "ReadableStream"
    assert [chunk.to_bytes() async for chunk in body] == [b"abc"]
    assert request.body_used


async def test_a_pull_that_enqueues_nothing_waits_for_a_later_enqueue() -> None:
    """WHATWG streams: pull is called again only once the stream needs more after a change;
    a source may enqueue later (e.g. from a timer) without being pulled in a loop."""
    calls = []
    holder = {}

    def start(controller):
        holder["c"] = controller

    def pull(controller):
        calls.append(1)

    stream = ReadableStream.new(start=start, pull=pull)
    reading = asyncio.ensure_future(stream.getReader().read())
    for _ in range(5):  # let the read run as far as it can
        await asyncio.sleep(0)
    assert not reading.done() and len(calls) == 1
    holder["c"].enqueue(to_js(b"late"))
    result = await reading
    assert result.value.to_bytes() == b"late" and len(calls) == 1
