"""The registry refuses a second live owner of a worker name (issue 18, finding 9)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wranglerpy.errors import UsageError
from wranglerpy.host.locations import Locations, WorkerLocation
from wranglerpy.testing.dev_server import DevServer


def _entry(name: str, pid: int) -> WorkerLocation:
    return WorkerLocation(name=name, base_name=name, env=None, socket="s", url="u", pid=pid)


def test_a_live_owner_keeps_its_name(tmp_path: Path) -> None:
    registry = Locations(tmp_path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        registry.register(_entry("api", other.pid))
        with pytest.raises(UsageError) as info:
            registry.register(_entry("api", os.getpid()))
        assert f"pid {other.pid}" in str(info.value) and "already running" in str(info.value)
        assert registry.get("api") is not None and registry.get("api").pid == other.pid
    finally:
        other.kill()
        other.wait()
    registry.register(_entry("api", os.getpid()))  # a dead owner's entry is taken over
    registry.register(_entry("api", os.getpid()))  # and the owner may write it again


def test_a_second_dev_with_the_same_worker_fails_and_the_first_keeps_serving(
    tmp_path: Path,
) -> None:
    (tmp_path / "worker.py").write_text(
        textwrap.dedent(
            """
            from workers import WorkerEntrypoint, Response

            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    return Response("first")
            """
        )
    )
    (tmp_path / "wrangler.toml").write_text(
        'name = "twice"\nmain = "worker.py"\ncompatibility_date = "2025-01-01"\n'
    )
    first = DevServer(
        tmp_path / "wrangler.toml", cwd=tmp_path, watch=False, extra_args=["--no-services"]
    )
    with first:
        env = dict(os.environ, WRANGLERPY_REGISTRY_PATH=str(first.registry_dir))
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "wranglerpy",
                "dev",
                "--port",
                "0",
                "--no-services",
                "--no-watch",
                "-c",
                str(tmp_path / "wrangler.toml"),
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0
        assert 'Worker "twice" is already running' in second.stderr + second.stdout
        assert "Traceback" not in second.stderr
        with first.client() as client:
            assert client.get("/").text == "first"
        assert Locations(first.registry_dir).get("twice").pid == first.process.pid
