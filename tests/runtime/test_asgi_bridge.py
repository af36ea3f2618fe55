"""``asgi.fetch``: a Request through an ASGI app, and the app learning that its client left."""

import asyncio

from wranglerpy.runtime import asgi_bridge
from wranglerpy.runtime.request_response import Request


async def test_closing_the_body_tells_the_app_its_client_left():
    stopped = asyncio.Event()

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})

        async def produce():
            try:
                while True:
                    await send({"type": "http.response.body", "body": b"x", "more_body": True})
                    await asyncio.sleep(0)
            finally:
                stopped.set()

        # As Quart does: the answer is produced by a task of its own, which the framework
        # stops when receive() says the client disconnected.
        producer = asyncio.ensure_future(produce())
        while (await receive())["type"] != "http.disconnect":
            pass
        producer.cancel()
        await asyncio.gather(producer, return_exceptions=True)

    response = await asgi_bridge.fetch(app, Request("http://worker.test/"), None)
    body = response.body
    assert await body.__anext__() == b"x"
    await body.aclose()  # the client went away
    await asyncio.wait_for(stopped.wait(), 10)


async def test_an_app_that_ignores_the_disconnect_is_cancelled():
    cancelled = asyncio.Event()

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        try:
            await asyncio.Event().wait()  # never looks at receive()
        finally:
            cancelled.set()

    response = await asgi_bridge.fetch(app, Request("http://worker.test/"), None)
    body = response.body
    assert await body.__anext__() == b"x"
    await body.aclose()
    assert cancelled.is_set()
