"""Issue 18, finding 14, end to end: under a running ``wranglerpy dev``, ``state reset`` is
refused, and writes after the state folder is deleted fail instead of being acknowledged and
lost."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.cli.main import app
from wranglerpy.testing import DevServer

pytestmark = pytest.mark.integration

WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        key = request.url.split("/", 3)[3]
        if request.method == "PUT":
            try:
                await self.env.KV.put(key, await request.text())
            except Exception as exc:
                return Response(f"{type(exc).__name__}: {exc}", status=500)
            return Response("stored")
        return Response(await self.env.KV.get(key) or "missing")
"""


def test_reset_is_refused_and_a_deleted_folder_refuses_writes(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "entry.py").write_text(WORKER)
    (project / "wrangler.toml").write_text(
        'name = "safe"\nmain = "entry.py"\n\n[[kv_namespaces]]\nbinding = "KV"\nid = "ns"\n'
    )
    state = tmp_path / "state"
    with DevServer(project / "wrangler.toml", cwd=project, persist_to=state) as dev:
        client = dev.client()
        assert client.put("/a", content="1").text == "stored"
        reset = CliRunner().invoke(app, ["state", "reset", "--yes", "--persist-to", str(state)])
        assert reset.exit_code == 1
        assert "a running `wranglerpy dev` uses it" in reset.output
        assert client.get("/a").text == "1"  # nothing was deleted

        shutil.rmtree(state)  # deleted anyway, behind dev's back
        refused = client.put("/b", content="2")
        assert refused.status_code == 500
        assert "StateError" in refused.text and "deleted or replaced" in refused.text
    # Once dev has stopped, reset is allowed again.
    state.mkdir()
    assert (
        CliRunner().invoke(app, ["state", "reset", "--yes", "--persist-to", str(state)]).exit_code
        == 0
    )
