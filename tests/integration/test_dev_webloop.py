"""``asyncio.run`` and ``run_until_complete`` inside a handler in a real worker process, whose
loop is uvloop's when installed (not an asyncio ``BaseEventLoop``). See
tests/fidelity/test_asyncio_run.py for the references."""

from pathlib import Path

import pytest

from wranglerpy.testing import DevServer

pytestmark = pytest.mark.integration

WORKER = """
import asyncio
from workers import Response, WorkerEntrypoint

async def value(text):
    await asyncio.sleep(0.01)
    return text

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        loop = asyncio.get_event_loop()
        nested = loop.run_until_complete(value("nested"))
        return Response(asyncio.run(value("run")) + " " + nested)
"""


def test_asyncio_run_and_run_until_complete_wait_in_a_real_worker(tmp_path: Path) -> None:
    (tmp_path / "entry.py").write_text(WORKER)
    (tmp_path / "wrangler.toml").write_text(
        'name = "loops"\nmain = "entry.py"\ncompatibility_date = "2025-10-01"\n'
        'compatibility_flags = ["python_workers"]\n'
    )
    with DevServer(tmp_path / "wrangler.toml", cwd=tmp_path, watch=False) as dev:
        assert dev.client("loops", timeout=60).get("/").text == "run nested"
