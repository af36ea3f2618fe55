"""``[limits] cpu_ms`` in a real worker process (uvloop, the SIGXCPU watchdog on its main
thread): a busy handler is stopped with error 1102 and the worker keeps serving.
See tests/fidelity/test_limits.py for the references."""

from pathlib import Path

import pytest

from wranglerpy.testing import DevServer

pytestmark = pytest.mark.integration

WORKER = """
import asyncio, time
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/spin"):
            started = time.thread_time()
            while time.thread_time() - started < 30:
                pass
            return Response("finished")
        await asyncio.sleep(0.3)  # wall time, not CPU time
        return Response("fine")
"""


def test_a_busy_request_gets_1102_and_the_next_is_served(tmp_path: Path) -> None:
    (tmp_path / "entry.py").write_text(WORKER)
    (tmp_path / "wrangler.toml").write_text(
        'name = "busy"\nmain = "entry.py"\ncompatibility_date = "2025-09-01"\n'
        'compatibility_flags = ["python_workers"]\n[limits]\ncpu_ms = 100\n'
    )
    with DevServer(tmp_path / "wrangler.toml", cwd=tmp_path, watch=False) as dev:
        client = dev.client("busy", timeout=60)
        spun = client.get("/spin", headers={"accept": "text/html"})
        assert spun.status_code == 503
        assert "Worker exceeded resource limits" in spun.text
        assert client.get("/").text == "fine"
        assert "Python Worker exceeded CPU time limit" in dev.output()
