"""WebSocket upgrades through the Ray ingress (``ray/websocket.py``), without a cluster: a
real worker replica accepts a ``WebSocketPair``; the deployment handle and the inbox actor
are stand-ins that call their classes as Ray would (the cluster test uses the real ones
with a real websocket client). The worker side answers as on the edge
(``runtime/websocket_wire.py``)."""

import asyncio
from typing import Any

import pytest

pytest.importorskip("starlette")

from wranglerpy.ray.handles import HandleClient  # noqa: E402
from wranglerpy.ray.ingress import Ingress, routing_config  # noqa: E402

from .conftest import StandInHandle, StandInInbox  # noqa: E402

ECHO = """
from js import WebSocketPair
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.headers.get("upgrade") != "websocket":
            return Response("expected a WebSocket", status=426)
        client, server = WebSocketPair.new().object_values()
        server.accept()

        def echo(event):
            if event.data == "bye":
                server.close(1000, "bye")
            else:
                server.send(f"echo:{event.data}")

        server.addEventListener("message", echo)
        return Response(None, status=101, web_socket=client)
"""


class Client:
    """The ASGI server's side of one WebSocket: what the proxy would send and receive."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.incoming.put_nowait({"type": "websocket.connect"})

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, message: dict[str, Any]) -> None:
        await self.sent.put(message)


def scope(host: str, extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": "/ws",
        "query_string": b"",
        "headers": [(b"host", host.encode()), (b"sec-websocket-key", b"x3JJHMbDL1EzLkh9GBhXDw==")],
        "client": ("127.0.0.9", 5000),
        "extensions": extensions or {},
    }


@pytest.fixture
def ingress(replica_for):
    ingress = Ingress()
    ingress.reconfigure(routing_config({"chat": (True, ()), "internal": (False, ())}))
    replica = replica_for(ECHO)
    ingress.clients["chat"] = HandleClient("chat", StandInHandle(replica))
    ingress.clients["internal"] = ingress.clients["chat"]
    ingress.inbox = StandInInbox()
    return ingress


async def test_messages_cross_both_ways_and_the_worker_closes(ingress) -> None:
    client = Client()
    relay = asyncio.ensure_future(
        ingress.asgi(scope("chat.localhost"), client.receive, client.send)
    )
    assert (await client.sent.get())["type"] == "websocket.accept"
    client.incoming.put_nowait({"type": "websocket.receive", "text": "hi"})
    assert await client.sent.get() == {"type": "websocket.send", "text": "echo:hi"}
    client.incoming.put_nowait({"type": "websocket.receive", "text": "bye"})
    assert await client.sent.get() == {"type": "websocket.close", "code": 1000, "reason": "bye"}
    await relay
    assert ingress.inbox.inbox.connections() == 0  # the connection's queue is gone


async def test_a_client_that_leaves_ends_the_workers_side(ingress) -> None:
    client = Client()
    relay = asyncio.ensure_future(
        ingress.asgi(scope("chat.localhost"), client.receive, client.send)
    )
    assert (await client.sent.get())["type"] == "websocket.accept"
    client.incoming.put_nowait({"type": "websocket.disconnect", "code": 1001})
    await relay
    assert ingress.inbox.inbox.connections() == 0


async def test_an_internal_worker_refuses_the_upgrade_with_the_edges_404(ingress) -> None:
    client = Client()
    await ingress.asgi(
        scope("internal.localhost", {"websocket.http.response": {}}), client.receive, client.send
    )
    start = await client.sent.get()
    assert (start["type"], start["status"]) == ("websocket.http.response.start", 404)
    body = await client.sent.get()
    assert b"reachable only through service bindings" in body["body"]


async def test_without_denial_responses_a_refusal_closes_before_accepting(ingress) -> None:
    client = Client()
    await ingress.asgi(scope("nobody.localhost"), client.receive, client.send)
    assert (await client.sent.get())["type"] == "websocket.close"
