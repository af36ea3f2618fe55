"""Cloudflare's examples 07-durable-objects and 15-chatroom, unchanged, under ``wranglerpy dev``
(fixtures/README.md), driven over HTTP and real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
import websockets

from wranglerpy.testing.dev_server import DevServer

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.integration


def lists(persist: Path, **kw: object) -> DevServer:
    folder = FIXTURES / "07-durable-objects"
    return DevServer(folder / "wrangler.jsonc", cwd=folder, persist_to=persist, watch=False, **kw)  # type: ignore[arg-type]


def chatroom(persist: Path, **kw: object) -> DevServer:
    folder = FIXTURES / "15-chatroom"
    return DevServer(folder / "wrangler.jsonc", cwd=folder, persist_to=persist, watch=False, **kw)  # type: ignore[arg-type]


def test_lists_survive_a_restart_of_dev(tmp_path: Path) -> None:
    with lists(tmp_path) as dev:
        client = dev.client()
        for word in ("hello", "world"):
            assert client.get(f"/groceries/add/{word}").text == "Message sent"
        assert client.get("/groceries/show").text == "hello\nworld"
        assert client.get("/other/show").text == "No messages"
    with lists(tmp_path) as dev:
        assert dev.client().get("/groceries/show").text == "hello\nworld"


def test_no_acknowledged_write_is_lost_when_dev_is_killed(tmp_path: Path) -> None:
    with lists(tmp_path) as dev:
        client = dev.client()
        for i in range(30):
            assert client.get(f"/k/add/m{i}").text == "Message sent"
        assert dev.process is not None
        os.killpg(dev.process.pid, signal.SIGKILL)  # the worker process too, mid-flight
        dev.process.wait()
    with lists(tmp_path) as dev:
        assert dev.client().get("/k/show").text.split("\n") == [f"m{i}" for i in range(30)]


async def _recv_json(ws: websockets.ClientConnection) -> dict[str, object]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=20))  # type: ignore[no-any-return]


def test_two_chatroom_clients_see_each_others_messages(tmp_path: Path) -> None:
    with chatroom(tmp_path) as dev:
        assert "<html" in dev.client().get("/").text.lower()
        url = dev.url().replace("http://", "ws://") + "/room/lobby"

        async def talk() -> None:
            async with websockets.connect(url) as ann, websockets.connect(url) as bob:
                assert (await _recv_json(ann))["type"] == "system"
                assert (await _recv_json(bob))["text"] == "Connected to chatroom"
                await ann.send(json.dumps({"username": "ann", "text": "hi bob"}))
                for ws in (ann, bob):
                    message = await _recv_json(ws)
                    assert (message["username"], message["text"]) == ("ann", "hi bob")
                await bob.send(json.dumps({"username": "bob", "text": "hi ann"}))
                assert (await _recv_json(ann))["text"] == "hi ann"
            async with websockets.connect(url) as late:
                history = await _recv_json(late)
                assert history["type"] == "history"
                assert [m["text"] for m in history["messages"]] == ["hi bob", "hi ann"]  # type: ignore[index, union-attr]

        asyncio.run(talk())
        refused = httpx.get(dev.url() + "/room/lobby")
        assert (refused.status_code, refused.text) == (400, "Expected WebSocket upgrade")


def test_hibernation_keeps_sockets_open_and_wakes_the_object(tmp_path: Path) -> None:
    """The object is evicted while both clients stay connected; the next message wakes a new
    instance (its in-memory history is gone) and still reaches both sockets."""
    environ = {"WRANGLERPY_DO_IDLE_TIMEOUT": "0.3"}
    with chatroom(tmp_path, environ=environ, extra_args=["--log-level", "debug"]) as dev:
        url = dev.url().replace("http://", "ws://") + "/room/quiet"

        async def talk() -> None:
            async with websockets.connect(url) as ann, websockets.connect(url) as bob:
                await _recv_json(ann)
                await _recv_json(bob)
                await ann.send(json.dumps({"username": "ann", "text": "before"}))
                await _recv_json(ann)
                await _recv_json(bob)
                deadline = time.monotonic() + 30
                while "evicted (idle)" not in dev.output():
                    assert time.monotonic() < deadline, dev.output()
                    await asyncio.sleep(0.05)
                await bob.send(json.dumps({"username": "bob", "text": "after"}))
                assert (await _recv_json(ann))["text"] == "after"
                assert (await _recv_json(bob))["text"] == "after"
                async with websockets.connect(url) as late:
                    history = await _recv_json(late)
                    assert [m["text"] for m in history["messages"]] == ["after"]  # type: ignore[index, union-attr]

        asyncio.run(talk())
