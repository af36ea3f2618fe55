"""One instance per id across processes: two ``dev`` processes of one worker, a worker binding
another worker's class (``script_name``), and an alarm that outlives its ``dev`` process.
Calls between processes travel as ``DurableObjectHead`` frames to the namespace's owner."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from wranglerpy.testing.dev_server import DevServer

COUNTER = Path(__file__).parent / "fixtures" / "counter"
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
    with (
        counter_dev(tmp_path) as first,
        counter_dev(tmp_path, registry=first.registry_dir) as second,
    ):
        clients = [first.client(), second.client()]
        answers = [clients[i % 2].get("/hit").json() for i in range(10)]
    assert len({a["pid"] for a in answers}) == 1  # every call ran in the owner's process
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
