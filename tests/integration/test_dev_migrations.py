"""``dev`` applies pending D1 migrations at start (and not with --no-apply-migrations)."""

from pathlib import Path

import pytest

from wranglerpy.testing import DevServer

pytestmark = pytest.mark.integration

WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        try:
            rows = await self.env.DB.prepare("SELECT name FROM notes ORDER BY id").all()
        except Exception as exc:  # noqa: BLE001
            return Response(str(exc), status=500)
        return Response.json([r["name"] for r in rows.results])
"""


def make_project(root: Path) -> Path:
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "0001_notes.sql").write_text(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, name TEXT);\n"
        "INSERT INTO notes (name) VALUES ('first');\n"
    )
    (root / "entry.py").write_text(WORKER)
    (root / "wrangler.toml").write_text(
        'name = "notes"\nmain = "entry.py"\n\n[[d1_databases]]\nbinding = "DB"\n'
        'database_name = "notes-db"\n'
    )
    return root


def test_pending_migrations_are_applied_once(tmp_path):
    project = make_project(tmp_path / "p")
    state = tmp_path / "state"
    with DevServer(project / "wrangler.toml", cwd=project, persist_to=state) as dev:
        assert dev.client().get("/").json() == ["first"]
        assert "Applied migration 0001_notes.sql to notes-db" in dev.output()
    with DevServer(project / "wrangler.toml", cwd=project, persist_to=state) as dev:
        assert dev.client().get("/").json() == ["first"]  # not applied twice
        assert "Applied migration" not in dev.output()


def test_no_apply_migrations_leaves_the_database_alone(tmp_path):
    project = make_project(tmp_path / "p")
    with DevServer(
        project / "wrangler.toml", cwd=project, extra_args=["--no-apply-migrations"]
    ) as dev:
        response = dev.client().get("/")
        assert response.status_code == 500
        assert "no such table: notes" in response.text
