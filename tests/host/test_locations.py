"""Two sessions of one worker (issue 18, finding 9): when the second one stops, the first's
registry entry comes back, so its service bindings and tail keep working (before: 503 until
a restart). Two devs of one worker are legitimate: they share Durable Objects."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.waits import wait_until
from wranglerpy.host.locations import Locations
from wranglerpy.testing.dev_server import DevServer


def test_the_first_dev_takes_its_entry_back_when_the_second_stops(tmp_path: Path) -> None:
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
    (tmp_path / "wrangler.toml").write_text(
        'name = "twice"\nmain = "worker.py"\ncompatibility_date = "2025-09-01"\n'
    )
    config = tmp_path / "wrangler.toml"
    with DevServer(config, cwd=tmp_path, watch=False, extra_args=["--no-services"]) as first:
        registry = Locations(first.registry_dir)
        assert first.process is not None
        second = DevServer(config, cwd=tmp_path, watch=False, extra_args=["--no-services"])
        second.registry_dir = first.registry_dir
        with second:
            assert 'Worker "twice" is also running in another wranglerpy dev' in second.output()
        wait_until(
            lambda: (entry := registry.get("twice")) is not None and entry.pid == first.process.pid,
            "the first dev's registry entry",
        )
        assert "reach this session again" in first.output()
