"""One live owner per worker name (issue 18, finding 9): a second ``dev`` of a worker another
live session runs is refused with a one-line error (before: it took the registry entry and
broke the first session's bindings and tail); the entry of a dead session is taken over."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wranglerpy.errors import UsageError
from wranglerpy.host.locations import Locations, WorkerLocation
from wranglerpy.testing.dev_server import DevServer, DevServerError


def _entry(name: str, pid: int) -> WorkerLocation:
    return WorkerLocation(name, name, None, "/nowhere.sock", "http://127.0.0.1:9", pid)


def test_a_claimed_name_is_refused_until_its_owner_lets_go(tmp_path: Path) -> None:
    owner = Locations(tmp_path)
    held = owner.claim("api")
    with pytest.raises(UsageError, match=rf"dev \(pid {os.getpid()}\)\. Stop"):
        Locations(tmp_path).claim("api")  # claimed, its entry not written yet
    owner.register(_entry("api", os.getpid()))
    with pytest.raises(UsageError) as refused:
        Locations(tmp_path).claim("api")  # another open of the lock: another session
    message = refused.value.message
    assert 'Worker "api" is already running in another wranglerpy dev' in message
    assert f"(pid {os.getpid()}, http://127.0.0.1:9)" in message
    assert "\n" not in message and "another worker name" in message
    Locations(tmp_path).claim("other")  # other names stay free
    os.close(held)
    os.close(Locations(tmp_path).claim("api"))


def test_a_dead_sessions_entry_is_taken_over_silently(tmp_path: Path) -> None:
    # The lock went with the process (kill -9 included); its entry file stays behind.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    Locations(tmp_path).register(_entry("api", int(dead.stdout)))
    os.close(Locations(tmp_path).claim("api"))


def test_a_second_dev_of_a_running_worker_exits_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "worker.py").write_text(
        textwrap.dedent(
            """
            from workers import WorkerEntrypoint, Response

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    return Response("ok")
            """
        )
    )
    config = tmp_path / "wrangler.toml"
    config.write_text('name = "twice"\nmain = "worker.py"\ncompatibility_date = "2025-09-01"\n')
    with DevServer(config, cwd=tmp_path, watch=False) as first:
        assert first.process is not None
        second = DevServer(config, cwd=tmp_path, watch=False)
        second.registry_dir = first.registry_dir
        with pytest.raises(DevServerError) as failed:
            second.start()
        output = str(failed.value)  # its output (the log is gone with the stopped server)
        assert second.process is not None and second.process.returncode == 2
        assert (
            f'Worker "twice" is already running in another wranglerpy dev '
            f"(pid {first.process.pid}, {first.url('twice')})" in output
        )
        assert "Traceback" not in output
        entry = Locations(first.registry_dir).get("twice")
        assert entry is not None and entry.pid == first.process.pid
        assert first.client("twice").get("/").text == "ok"
