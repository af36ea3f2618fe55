"""Service bindings over deployment handles: the wire's frames through a Ray streaming
generator (a stand-in handle here; the real one in test_cluster.py)."""

import asyncio
import contextlib

import pytest

from wranglerpy.config.schema import ServiceBinding
from wranglerpy.ray.handles import HandleClient, RayServiceFetcher
from wranglerpy.runtime.service import RPCError

from .conftest import StandInHandle

TARGET = """
import asyncio
from workers import WorkerEntrypoint, Response
from js import ReadableStream
from pyodide.ffi import create_proxy, to_js


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/sse"):
            forever = "forever" in (request.headers.get("x-mode") or "")
            count = iter(range(10**9 if forever else 3))

            async def pull(controller):
                i = next(count, None)
                if i is None:
                    controller.close()
                    return
                await asyncio.sleep(0)
                controller.enqueue(to_js(f"data: {i}\\n\\n".encode()))

            stream = ReadableStream.new(pull=create_proxy(pull))
            return Response(stream, headers={"content-type": "text/event-stream"})
        body = await request.text()
        return Response(f"{request.method} {request.url} {body}", headers={"x-seen": request.headers.get("x-in", "")})

    async def generate(self, prompt, *, loud=False):
        return prompt.upper() if loud else prompt

    async def explode(self):
        raise ValueError("bad prompt")

    async def custom(self):
        class QuotaExceeded(Exception):
            pass
        raise QuotaExceeded("over quota")
"""


@pytest.fixture
def fetcher(replica_for):
    replica = replica_for(TARGET)
    handle = StandInHandle(replica)
    binding = ServiceBinding("TARGET", "target")
    return RayServiceFetcher(binding, "caller", "target", HandleClient("target", handle)), handle


async def test_fetch_keeps_method_url_headers_and_body(fetcher):
    service, _ = fetcher
    response = await service.fetch(
        "http://any.host/p?q=1", method="PUT", headers={"x-in": "v"}, body="data"
    )
    assert response.status == 200
    assert await response.text() == "PUT http://any.host/p?q=1 data"
    assert response.headers.get("x-seen") == "v"


async def test_a_streamed_answer_arrives_chunk_by_chunk(fetcher):
    service, _ = fetcher
    response = await service.fetch("http://target/sse")
    assert response.headers.get("content-type") == "text/event-stream"
    chunks = [chunk async for chunk in response.body]
    assert b"".join(chunks) == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"
    assert len(chunks) == 3


async def test_rpc_returns_values_and_keyword_arguments(fetcher):
    service, _ = fetcher
    assert await service.generate("hi", loud=True) == "HI"


async def test_rpc_exceptions_keep_their_type(fetcher):
    service, _ = fetcher
    with pytest.raises(ValueError, match="bad prompt"):
        await service.explode()
    with pytest.raises(RPCError, match="over quota") as caught:
        await service.custom()
    assert type(caught.value).__name__ == "QuotaExceeded"


async def test_an_unknown_method_is_the_sdk_type_error(fetcher):
    service, _ = fetcher
    with pytest.raises(TypeError, match='does not implement the method "nothing"'):
        await service.nothing()


async def test_a_caller_leaving_mid_stream_cancels_the_replicas_call(fetcher):
    service, handle = fetcher
    response = await service.fetch("http://target/sse", headers={"x-mode": "forever"})
    chunks = response.body.__aiter__()
    assert await chunks.__anext__() == b"data: 0\n\n"
    await chunks.aclose()
    call = handle.calls[-1]
    assert call.cancelled
    # The replica's generator ends (it tells the worker's Call its caller left) instead of
    # streaming on for nobody.
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(call.task, 30)
    assert call.task.done()


async def test_a_lost_replica_is_a_503_from_the_binding():
    class Broken:
        def options(self, stream: bool = False):
            return self

        @property
        def call(self):
            return self

        def remote(self, head, body):
            async def fail():
                raise RuntimeError("ActorDiedError: the replica's node died")
                yield b""

            class Gen:
                def __init__(self):
                    self.agen = fail()

                def __aiter__(self):
                    return self.agen

                def cancel(self):
                    pass

            return Gen()

    service = RayServiceFetcher(
        ServiceBinding("TARGET", "target"), "caller", "target", HandleClient("target", Broken())
    )
    response = await service.fetch("http://target/")
    assert response.status == 503
    with pytest.raises(Exception, match="not found"):
        await service.generate("x")
