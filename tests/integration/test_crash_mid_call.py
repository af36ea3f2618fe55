"""A worker process that dies while handling a call is not sent that call again.

The target records each call in a SQLite file, then kills its own process (``os._exit``)
before answering: a crash, a SIGKILL, an exceeded memory limit. Cloudflare never replays a
request into a worker that already received it: workerd classifies retries of disconnected
calls only for Durable Objects (cloudflare/workerd ``src/workerd/api/http.c++:1499-1503`` at
6552d99), and there a failure after delivery "must not be retried as a fresh delivery"
(``src/workerd/io/worker-entrypoint.c++:575-582``). The caller's ``env.SVC.fetch`` / RPC rejects
with a JS ``Error: Network connection lost.`` (``src/workerd/jsg/util.c++:322-330``); through
Python's fetch that is an ``OSError``
(``AbortError``) with that message (workers-py ``packages/runtime-sdk/src/workers/fetch.py:16-30``),
and an RPC's JS ``Error`` keeps its type name. What the edge answers a client for a worker that
died mid-request is not pinned by a source we can read (production answers a Cloudflare error
page); the local edge answers 502.
"""

from __future__ import annotations

import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.waits import wait_until
from wranglerpy.cli.main import app
from wranglerpy.deploy.client import running_edge, stop_edge
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.testing import DevServer

pytestmark = pytest.mark.integration

VICTIM = """
import os
import sqlite3
from urllib.parse import urlsplit

from workers import Response, WorkerEntrypoint


def record(path, what):
    db = sqlite3.connect(path)
    with db:  # committed before the process dies
        db.execute("CREATE TABLE IF NOT EXISTS calls (what TEXT)")
        db.execute("INSERT INTO calls VALUES (?)", (what,))
    db.close()


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if urlsplit(request.url).path == "/insert":
            record(self.env.COUNT_DB, "fetch " + await request.text())
            os._exit(1)
        return Response("alive")

    async def insert(self, what):
        record(self.env.COUNT_DB, "rpc " + what)
        os._exit(1)
"""

CALLER = """
from urllib.parse import urlsplit

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlsplit(request.url).path
        try:
            if path == "/svc":
                answer = await self.env.VICTIM.fetch(
                    "http://victim/insert", method="POST", body="svc"
                )
                return Response.json({"status": answer.status})
            if path == "/rpc":
                await self.env.VICTIM.insert("rpc")
                return Response.json({"returned": True})
        except Exception as exc:
            return Response.json(
                {
                    "type": type(exc).__name__,
                    "message": str(exc),
                    "oserror": isinstance(exc, OSError),
                },
                status=502,
            )
        return Response("caller")
"""


def make_project(root: Path) -> Path:
    project = root / "crash"
    project.mkdir()
    (project / "victim.py").write_text(textwrap.dedent(VICTIM))
    (project / "caller.py").write_text(textwrap.dedent(CALLER))
    db = project / "calls.sqlite"
    (project / "wrangler.toml").write_text(
        'name = "crash-caller"\nmain = "caller.py"\ncompatibility_date = "2025-09-01"\n'
        '[[services]]\nbinding = "VICTIM"\nservice = "crash-victim"\n'
    )
    (project / "wrangler-victim.toml").write_text(
        'name = "crash-victim"\nmain = "victim.py"\ncompatibility_date = "2025-09-01"\n'
        f'[vars]\nCOUNT_DB = "{db}"\n'
    )
    return project


def calls(project: Path) -> list[str]:
    db = sqlite3.connect(project / "calls.sqlite")
    try:
        return [what for (what,) in db.execute("SELECT what FROM calls")]
    finally:
        db.close()


def answers_alive(client: httpx.Client) -> bool:
    try:
        return client.get("/").text == "alive"
    except httpx.HTTPError:
        return False


def test_dev_a_service_binding_call_into_a_dying_worker_runs_once_and_raises(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path)
    configs = (project / "wrangler.toml", project / "wrangler-victim.toml")
    with DevServer(*configs, cwd=project, watch=False) as dev:
        caller, victim = dev.client("crash-caller"), dev.client("crash-victim")
        failed = caller.get("/svc")
        assert failed.status_code == 502, failed.text
        assert failed.json() == {
            "type": "AbortError",
            "message": "Network connection lost.",
            "oserror": True,
        }
        assert calls(project) == ["fetch svc"]
        wait_until(lambda: answers_alive(victim), "the victim's restart")
        failed = caller.get("/rpc")
        assert failed.status_code == 502, failed.text
        assert failed.json() == {
            "type": "Error",
            "message": "Network connection lost.",
            "oserror": False,
        }
        assert calls(project) == ["fetch svc", "rpc rpc"]


@pytest.fixture
def edge_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    project = make_project(tmp_path)
    paths = EdgePaths.resolve(tmp_path / "edge")
    monkeypatch.setenv("WRANGLERPY_EDGE_DIR", str(paths.root))
    monkeypatch.setenv("WRANGLERPY_REGISTRY_PATH", str(tmp_path / "registry"))
    monkeypatch.chdir(project)
    try:
        yield project
    finally:
        stop_edge(paths)


def test_edge_a_request_into_a_dying_worker_runs_once(edge_project: Path) -> None:
    result = CliRunner().invoke(app, ["deploy", "--all", "--edge-port", "0"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    edge = running_edge(EdgePaths.resolve(Path(edge_project.parent / "edge")))
    assert edge is not None
    base = f"http://127.0.0.1:{edge.port}"
    host = f".localhost:{edge.port}"
    with (
        httpx.Client(base_url=base, headers={"host": "crash-victim" + host}, timeout=30) as victim,
        httpx.Client(base_url=base, headers={"host": "crash-caller" + host}, timeout=30) as caller,
    ):
        wait_until(lambda: answers_alive(victim), "the victim's start")
        failed = victim.post("/insert", content=b"edge")
        assert failed.status_code == 502, failed.text
        assert calls(edge_project) == ["fetch edge"]
        wait_until(lambda: answers_alive(victim), "the victim's restart")
        failed = caller.get("/svc")
        assert failed.status_code == 502, failed.text
        assert failed.json()["message"] == "Network connection lost."
        assert calls(edge_project) == ["fetch edge", "fetch svc"]
