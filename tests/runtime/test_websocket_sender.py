"""``EagerSender``: frames written inside ``ws.send()``, in order, without a task per frame."""

from __future__ import annotations

import asyncio
from typing import Any

from wranglerpy.runtime.websocket import WebSocketPair
from wranglerpy.runtime.websocket_sender import EagerSender, asgi_message


class Server:
    """An ASGI ``send`` that completes at once, or waits on ``gate`` while it is clear."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting = asyncio.Event()
        self.fail = False

    async def send(self, message: dict[str, Any]) -> None:
        if self.fail:
            raise ConnectionError("gone")
        if not self.gate.is_set():
            self.waiting.set()
            await self.gate.wait()
        self.sent.append(message)


def texts(server: Server) -> list[Any]:
    return [m.get("text", m.get("code")) for m in server.sent]


async def test_frames_are_written_inside_send_without_a_task() -> None:
    server = Server()
    sender = EagerSender(server.send)
    client, end = WebSocketPair.new().object_values()
    client.couple(sender.push)
    end.accept()
    end.send("held")  # before the connection is accepted: kept until start()
    assert server.sent == []
    sender.start()
    assert texts(server) == ["held"]
    tasks = len(asyncio.all_tasks())
    for i in range(100):
        end.send(f"m{i}")
    assert texts(server) == ["held"] + [f"m{i}" for i in range(100)]  # no loop turn needed
    assert len(asyncio.all_tasks()) == tasks
    end.send(b"\x00")
    assert server.sent[-1] == {"type": "websocket.send", "bytes": b"\x00"}


async def test_a_send_that_waits_keeps_later_frames_in_order() -> None:
    server = Server()
    sender = EagerSender(server.send)
    sender.start()
    server.gate.clear()  # back-pressure: the transport is paused
    sender.push(("message", "a"))
    sender.push(("message", "b"))
    sender.push(("close", 1005, "", True))
    sender.push(("message", "after close"))
    await server.waiting.wait()
    assert server.sent == []
    server.gate.set()
    await sender.flushed()
    assert texts(server) == ["a", "b", 1000]  # 1005 (no code) goes out as a normal close


async def test_a_failed_connection_drops_frames_without_raising_into_the_sender() -> None:
    server = Server()
    sender = EagerSender(server.send)
    sender.start()
    server.fail = True
    sender.push(("message", "lost"))
    server.fail = False
    sender.push(("message", "also dropped: the connection is gone"))
    assert server.sent == []


async def test_stop_cancels_a_send_still_waiting() -> None:
    server = Server()
    sender = EagerSender(server.send)
    sender.start()
    server.gate.clear()
    sender.push(("message", "stuck"))
    await server.waiting.wait()
    await sender.stop()
    server.gate.set()
    await asyncio.sleep(0)
    assert server.sent == []
    sender.push(("message", "after stop"))
    assert server.sent == []


def test_items_become_asgi_events() -> None:
    assert asgi_message(("message", "t")) == {"type": "websocket.send", "text": "t"}
    assert asgi_message(("close", 4000, "bye", True)) == {
        "type": "websocket.close",
        "code": 4000,
        "reason": "bye",
    }
    assert asgi_message(("open",)) is None


async def test_a_send_that_returns_a_future_still_goes_out_in_order() -> None:
    sent: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()

    def send(message: dict[str, Any]) -> asyncio.Future[None]:
        done: asyncio.Future[None] = loop.create_future()
        loop.call_soon(lambda: (sent.append(message), done.set_result(None)))
        return done

    sender = EagerSender(send)
    sender.start()
    sender.push(("message", "one"))
    sender.push(("message", "two"))
    await sender.flushed()
    assert [m["text"] for m in sent] == ["one", "two"]
