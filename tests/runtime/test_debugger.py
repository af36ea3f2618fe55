"""``dev --inspector-port``: a real DAP client attaches to debugpy in a worker process, stops at
a breakpoint in worker code while an HTTP request waits, continues, and gets the answer; after
a hot reload the new process listens on the same port and its breakpoints work too.

wrangler's flag (workers-sdk packages/wrangler/src/dev.ts, ``inspector-port``) opens a V8
inspector; a Python worker's debugger is debugpy, so the port speaks DAP instead."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import httpx
import pytest

from tests.runtime.dap_client import DapClient
from tests.waits import wait_until
from wranglerpy.runtime import debugger
from wranglerpy.testing.dev_server import DevServer, free_port

CONFIG = """
name = "{name}"
main = "src/entry.py"
compatibility_date = "2025-09-01"
compatibility_flags = ["python_workers"]
"""

WORKER = """from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        answer = "{answer}"
        return Response(answer)
"""
LINE = 7  # `return Response(answer)`


def project(folder: Path, name: str, answer: str) -> Path:
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "entry.py").write_text(WORKER.format(answer=answer))
    (folder / "wrangler.toml").write_text(CONFIG.format(name=name))
    return folder / "wrangler.toml"


def test_ports_are_assigned_in_order_and_printed() -> None:
    ports = debugger.assign(["api", "backend"], 9229)
    assert ports == {"api": 9229, "backend": 9230}
    assert debugger.banner_line("api", 9229, several=True) == [
        "⎔ Debugger (debugpy) listening on 127.0.0.1:9229 (api)"
    ]
    assert debugger.banner_line("api", None, several=True) == []
    assert debugger.ports_in_use(ports, {"api": 8787, "backend": 9230}) == ["backend"]


def get_in_thread(url: str) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(httpx.get(url, timeout=60)))
    thread.start()
    return thread, answers


def hit_breakpoint(client: DapClient, source: Path, url: str) -> str:
    """Break at LINE during a request, check where it stopped, continue; the answer's text."""
    thread, answers = get_in_thread(url)
    thread_id, path, line = client.stopped_at()
    assert (Path(path).resolve(), line) == (source.resolve(), LINE)
    assert not answers  # the request waits on the breakpoint
    client.request("continue", threadId=thread_id)
    thread.join(60)
    assert answers and answers[0].status_code == 200
    return answers[0].text


def attach(port: int, source: Path) -> DapClient:
    client = DapClient(port)
    client.attach_with_breakpoint(str(source), LINE)
    return client


@pytest.mark.integration
def test_breakpoint_in_each_worker_and_after_reload(tmp_path: Path) -> None:
    first = project(tmp_path / "a", "dbg-a", "from a")
    second = project(tmp_path / "b", "dbg-b", "from b")
    inspector = free_port()
    while not debugger.port_free(inspector + 1):
        inspector = free_port()
    args = ["--inspector-port", str(inspector)]
    with DevServer(first, second, cwd=tmp_path, extra_args=args) as dev:
        output = dev.output()
        assert f"listening on 127.0.0.1:{inspector} (dbg-a)" in output
        assert f"listening on 127.0.0.1:{inspector + 1} (dbg-b)" in output
        source_a = tmp_path / "a" / "src" / "entry.py"
        source_b = tmp_path / "b" / "src" / "entry.py"
        client_b = attach(inspector + 1, source_b)
        assert hit_breakpoint(client_b, source_b, dev.workers["dbg-b"].url) == "from b"
        client_b.request("disconnect", terminateDebuggee=False)  # detaching leaves it running
        client_b.close()
        client_a = attach(inspector, source_a)
        assert hit_breakpoint(client_a, source_a, dev.workers["dbg-a"].url) == "from a"

        # Hot reload while attached: the debugger's session ends with the old process, and
        # the new process listens on the same port once the old one is gone.
        source_a.write_text(WORKER.format(answer="reloaded"))
        wait_until(lambda: "dbg-a ready" in dev.output(), "the reload")
        client_a.event("terminated")
        client_a.close()
        wait_until(
            lambda: (
                dev.output().count(f"⎔ Debugger (debugpy) listening on 127.0.0.1:{inspector}") >= 2
            ),
            "the new process's debugger",
        )
        client_a = attach(inspector, source_a)
        assert hit_breakpoint(client_a, source_a, dev.workers["dbg-a"].url) == "reloaded"
        client_a.close()


def test_inspector_port_without_room_or_in_use_is_a_usage_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from wranglerpy.cli.main import app

    config = project(tmp_path, "dbg", "x")
    result = CliRunner().invoke(app, ["dev", "-c", str(config), "--inspector-port", "70000"])
    assert result.exit_code != 0
    assert "--inspector-port must leave room" in result.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["dev", "-c", str(config), "--inspector-port", str(port)]
        result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert f"port {port} (dbg's debugger) is in use on 127.0.0.1" in result.output
