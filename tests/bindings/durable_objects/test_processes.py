"""One instance per id across processes: two ``dev`` processes (one running the class's worker,
one a worker binding it with ``script_name``), an edge fleet of two processes, and an alarm
that outlives its ``dev`` process.
Calls between processes travel as ``DurableObjectHead`` frames to the namespace's owner."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from wranglerpy.testing.dev_server import DevServer

COUNTER = Path(__file__).parent / "fixtures" / "counter"
PROCESSES = "2"  # the edge fleet: an upgrade may land in either process
pytestmark = pytest.mark.integration


def counter_dev(persist: Path, *configs: str, registry: Path | None = None) -> DevServer:
    dev = DevServer(
        *(COUNTER / c for c in (configs or ("wrangler.toml",))),
        cwd=COUNTER,
        persist_to=persist,
        watch=False,
    )
    if registry is not None:
        dev.registry_dir = registry
    return dev


def test_two_dev_processes_share_one_instance(tmp_path: Path) -> None:
    """One ``dev`` runs the counter worker, another a worker that binds its class with
    ``script_name`` (two sessions of one worker name are refused): calls from both processes
    reach the one live instance of the id, in its owner's process."""
    with (
        counter_dev(tmp_path) as first,
        counter_dev(tmp_path, "wrangler-caller.toml", registry=first.registry_dir) as second,
    ):
        clients = [first.client(), second.client()]
        answers = [clients[i % 2].get("/hit").json() for i in range(10)]
        assert first.process is not None and second.process is not None
        sessions = {first.process.pid, second.process.pid}
    assert len({a["pid"] for a in answers}) == 1  # every call ran in the owner's process
    assert answers[0]["pid"] not in sessions  # a worker process, not a supervisor
    assert [a["hits"] for a in answers] == list(range(1, 11))  # one memory, not two
    assert [a["total"] for a in answers] == list(range(1, 11))


def test_a_script_name_binding_reaches_the_defining_worker(tmp_path: Path) -> None:
    with counter_dev(tmp_path, "wrangler.toml", "wrangler-caller.toml") as dev:
        own = dev.client("counter").get("/hit").json()
        via = dev.client("caller").get("/hit").json()
    assert via["pid"] == own["pid"] and via["hits"] == 2


def test_an_alarm_set_before_dev_stops_fires_after_it_restarts(tmp_path: Path) -> None:
    with counter_dev(tmp_path) as dev:
        setter = dev.client().get("/remind/4000").json()
    with counter_dev(tmp_path) as dev:
        client = dev.client()
        deadline = time.monotonic() + 60
        while (fired := client.get("/alarm").json()["alarm_pid"]) is None:
            assert time.monotonic() < deadline, dev.output()
            time.sleep(0.1)
    assert fired != setter


def test_edge_processes_share_one_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker deployed on the local edge with two processes: calls landing in either one
    reach the same object."""
    import shutil

    from typer.testing import CliRunner

    from wranglerpy.cli.main import app
    from wranglerpy.deploy.client import running_edge, stop_edge
    from wranglerpy.deploy.paths import EdgePaths

    project = tmp_path / "counter"
    shutil.copytree(COUNTER, project)
    paths = EdgePaths.resolve(tmp_path / "edge")
    monkeypatch.setenv("WRANGLERPY_EDGE_DIR", str(paths.root))
    monkeypatch.setenv("WRANGLERPY_REGISTRY_PATH", str(tmp_path / "registry"))
    monkeypatch.chdir(project)
    runner = CliRunner()
    try:
        started = runner.invoke(app, ["edge", "start", "--port", "0", "--processes", "2"])
        assert started.exit_code == 0, started.output
        deployed = runner.invoke(app, ["deploy", "-c", "wrangler.toml"])
        assert deployed.exit_code == 0, deployed.output
        edge = running_edge(paths)
        assert edge is not None
        import httpx

        with httpx.Client(
            base_url=f"http://127.0.0.1:{edge.port}",
            headers={"host": f"counter.localhost:{edge.port}"},
            timeout=30,
        ) as client:
            answers = [client.get("/hit").json() for _ in range(12)]
    finally:
        stop_edge(paths)
    assert len({a["pid"] for a in answers}) == 1
    assert [a["hits"] for a in answers] == list(range(1, 13))


def test_the_chatroom_on_the_edge_through_the_router(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The router relays WebSocket upgrades to the worker (WebSocketHead frames)."""
    import asyncio
    import json
    import shutil

    import websockets
    from typer.testing import CliRunner

    from wranglerpy.cli.main import app
    from wranglerpy.deploy.client import running_edge, stop_edge
    from wranglerpy.deploy.paths import EdgePaths

    project = tmp_path / "chat"
    shutil.copytree(COUNTER.parent / "15-chatroom", project)
    paths = EdgePaths.resolve(tmp_path / "edge")
    monkeypatch.setenv("WRANGLERPY_EDGE_DIR", str(paths.root))
    monkeypatch.setenv("WRANGLERPY_REGISTRY_PATH", str(tmp_path / "registry"))
    monkeypatch.chdir(project)
    runner = CliRunner()
    try:
        started = runner.invoke(app, ["edge", "start", "--port", "0", "--processes", PROCESSES])
        assert started.exit_code == 0, started.output
        deployed = runner.invoke(app, ["deploy", "-c", "wrangler.jsonc"])
        assert deployed.exit_code == 0, deployed.output
        edge = running_edge(paths)
        assert edge is not None
        url = f"ws://python-chatroom.localhost:{edge.port}/room/edge"

        async def talk() -> None:
            def connect() -> websockets.connect:
                return websockets.connect(url, host="127.0.0.1", port=edge.port)

            async with connect() as ann, connect() as bob:
                for ws in (ann, bob):
                    assert json.loads(await asyncio.wait_for(ws.recv(), 20))["type"] == "system"
                await ann.send(json.dumps({"username": "ann", "text": "over the edge"}))
                for ws in (ann, bob):
                    message = json.loads(await asyncio.wait_for(ws.recv(), 20))
                    assert message["text"] == "over the edge"

        asyncio.run(talk())
    finally:
        stop_edge(paths)


def test_chatroom_clients_of_two_dev_processes_share_the_room(tmp_path: Path) -> None:
    """One client per ``dev`` process: the chatroom's own ``dev``, and a ``dev`` of a lobby
    worker binding its class with ``script_name``; the non-owner bridges its client to the
    owner."""
    import asyncio
    import json
    import shutil

    import websockets

    chat = COUNTER.parent / "15-chatroom"
    lobby = tmp_path / "lobby"
    shutil.copytree(chat / "src", lobby / "src")
    (lobby / "wrangler.toml").write_text(
        'name = "chat-lobby"\nmain = "src/entry.py"\ncompatibility_date = "2025-11-02"\n'
        'compatibility_flags = ["python_workers"]\n\n[[durable_objects.bindings]]\n'
        'name = "CHATROOM"\nclass_name = "Chatroom"\nscript_name = "python-chatroom"\n'
    )
    owner = DevServer(chat / "wrangler.jsonc", cwd=chat, persist_to=tmp_path, watch=False)
    with owner as first:
        other = DevServer(lobby / "wrangler.toml", cwd=lobby, persist_to=tmp_path, watch=False)
        other.registry_dir = first.registry_dir
        with other as second:
            urls = [d.url().replace("http://", "ws://") + "/room/shared" for d in (first, second)]

            async def talk() -> None:
                async with websockets.connect(urls[0]) as ann, websockets.connect(urls[1]) as bob:
                    for ws in (ann, bob):
                        message = json.loads(await asyncio.wait_for(ws.recv(), 20))
                        assert message["type"] == "system"
                    await bob.send(json.dumps({"username": "bob", "text": "from the other dev"}))
                    for ws in (ann, bob):
                        message = json.loads(await asyncio.wait_for(ws.recv(), 20))
                        assert message["text"] == "from the other dev"

            asyncio.run(talk())


def test_a_websocket_through_a_service_binding(tmp_path: Path) -> None:
    import asyncio

    import websockets

    with counter_dev(tmp_path, "wrangler.toml", "wrangler-front.toml") as dev:
        url = dev.url("front").replace("http://", "ws://") + "/ws"

        async def talk() -> None:
            async with websockets.connect(url) as ws:
                await ws.send("hi")
                assert await asyncio.wait_for(ws.recv(), 20) == "echo:hi"

        asyncio.run(talk())
