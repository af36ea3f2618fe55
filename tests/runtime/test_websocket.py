"""``WebSocketPair``/``WebSocket`` in worker code, with workerd's rules and messages
(workerd src/workerd/api/web-socket.c++), and outbound sockets against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets

from wranglerpy.runtime.fetch import fetch
from wranglerpy.runtime.websocket import (
    DOMSyntaxError,
    InvalidAccessError,
    WebSocket,
    WebSocketPair,
)


def collect(ws: WebSocket, kind: str = "message") -> list[Any]:
    seen: list[Any] = []
    ws.addEventListener(kind, lambda event: seen.append(event))
    return seen


def test_a_pair_delivers_both_ways_once_accepted() -> None:
    client, server = WebSocketPair.new().object_values()
    got_server, got_client = collect(server), collect(client)
    client.accept()
    client.send("early")  # the server end buffers until it accepts
    assert got_server == []
    server.accept()
    server.send(b"\x01\x02")
    assert [e.data for e in got_server] == ["early"]
    assert bytes(got_client[0].data) == b"\x01\x02"
    closes = collect(client, "close")
    server.close(1000, "bye")
    assert (closes[0].code, closes[0].reason, closes[0].wasClean) == (1000, "bye", True)
    with pytest.raises(TypeError, match="Can't call WebSocket send\\(\\) after close\\(\\)."):
        server.send("x")


def test_misuse_raises_workerds_errors() -> None:
    client, server = WebSocketPair()
    with pytest.raises(
        TypeError, match="You must call one of accept\\(\\) or state.acceptWebSocket\\(\\)"
    ):
        server.send("x")
    server.accept()
    with pytest.raises(InvalidAccessError, match="Invalid WebSocket close code: 1006."):
        server.close(1006)
    with pytest.raises(InvalidAccessError, match="you must also specify a code"):
        server.close(None, "why")
    with pytest.raises(DOMSyntaxError, match="longer than 123 bytes"):
        server.close(1000, "x" * 124)
    client.accept()
    with pytest.raises(
        TypeError, match="Can't return WebSocket in a Response after calling accept\\(\\)."
    ):
        client.couple(lambda item: None)
    with pytest.raises(Exception, match="attachment' cannot be larger than 16384 bytes"):
        server.serializeAttachment("x" * 20000)
    server.serializeAttachment({"user": "ann"})
    assert server.deserializeAttachment() == {"user": "ann"}


@pytest.fixture
async def echo_server() -> AsyncIterator[str]:
    async def echo(conn: Any) -> None:
        async for message in conn:
            await conn.send(f"echo:{message}")

    async with websockets.serve(echo, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/"


async def test_new_websocket_connects_out_and_fires_events(echo_server: str) -> None:
    ws = WebSocket.new(echo_server)
    opened = asyncio.Event()
    replies: asyncio.Queue[str] = asyncio.Queue()
    ws.addEventListener("open", lambda event: opened.set())

    async def on_message(event: Any) -> None:  # async listeners work too (create_proxy style)
        await replies.put(event.data)

    ws.addEventListener("message", on_message)
    await asyncio.wait_for(opened.wait(), 10)
    with pytest.raises(TypeError, match="'new WebSocket\\(\\)' constructor cannot call accept"):
        ws.accept()
    ws.send("ping")
    assert await asyncio.wait_for(replies.get(), 10) == "echo:ping"
    closed = asyncio.Event()
    ws.addEventListener("close", lambda event: closed.set())
    ws.close(1000, "done")
    await asyncio.wait_for(closed.wait(), 10)
    with pytest.raises(DOMSyntaxError, match="The url scheme must be ws or wss."):
        WebSocket.new("http://example.com/")


async def test_fetch_with_upgrade_gives_a_socket_to_accept(echo_server: str) -> None:
    response = await fetch(
        echo_server.replace("ws://", "http://"), headers={"Upgrade": "websocket"}
    )
    assert response.status == 101
    ws = response.webSocket
    replies: asyncio.Queue[str] = asyncio.Queue()
    ws.addEventListener("message", lambda event: replies.put_nowait(event.data))
    ws.accept()
    ws.send("hi")
    assert await asyncio.wait_for(replies.get(), 10) == "echo:hi"
    ws.close()
