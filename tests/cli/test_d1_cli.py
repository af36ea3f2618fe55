import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.bindings.d1 import D1DatabaseBinding, database_path
from wranglerpy.cli.main import app

CONFIG = """
name = "d1test"
main = "src/entry.py"

[[d1_databases]]
binding = "DB"
database_name = "app-db"
database_id = "1111-2222"
migrations_dir = "db/migrations"
"""

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def d1(*args: str):
    return runner.invoke(app, ["d1", *args])


def query(project: Path, sql: str) -> list[dict]:
    async def run() -> list[dict]:
        db = D1DatabaseBinding(database_path(project / ".wranglerpy" / "state", "1111-2222"))
        try:
            return (await db.prepare(sql).all()).results
        finally:
            db.close()

    return asyncio.run(run())


def test_execute_command_prints_tables_or_json(project: Path) -> None:
    made = d1("execute", "DB", "--command", "CREATE TABLE t (a, b); INSERT INTO t VALUES (1, 'x')")
    assert made.exit_code == 0, made.output
    assert "2 command(s) executed successfully" in made.output
    shown = d1("execute", "app-db", "--command", "SELECT a, b FROM t")
    assert shown.exit_code == 0 and "│ 1 │ x │" in shown.output
    as_json = d1("execute", "DB", "--command", "SELECT a, b, x'0a0b' AS c FROM t", "--json")
    parsed = json.loads(as_json.output)
    assert parsed[0]["results"] == [{"a": 1, "b": "x", "c": [10, 11]}]
    assert parsed[0]["success"] is True and parsed[0]["meta"]["served_by"] == "wranglerpy"


def test_table_output_shows_brackets_literally(project: Path) -> None:
    shown = d1("execute", "DB", "--command", "SELECT '[red]x[/red]' AS v, NULL AS n")
    assert shown.exit_code == 0 and "[red]x[/red]" in shown.output and "null" in shown.output


def test_execute_file_is_atomic(project: Path) -> None:
    (project / "seed.sql").write_text(
        "CREATE TABLE t (a UNIQUE);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n"
    )
    failed = d1("execute", "DB", "--file", "seed.sql")
    assert failed.exit_code == 1
    assert "D1_ERROR: UNIQUE constraint failed: t.a: SQLITE_CONSTRAINT" in failed.output
    assert query(project, "SELECT name FROM sqlite_master WHERE name = 't'") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["execute", "DB"], "exactly one of --command or --file"),
        (
            ["execute", "NOPE", "--command", "SELECT 1"],
            "Couldn't find a D1 DB with the name or binding 'NOPE'",
        ),
        (
            ["execute", "DB", "--command", "SELECT * FROM foo"],
            "D1_ERROR: no such table: foo: SQLITE_ERROR",
        ),
        (["execute", "DB", "--command", "-- nothing"], "no SQL to execute"),
        (["execute", "DB", "--file", "nope.sql"], "Cannot read --file"),
        (["execute", "DB", "--command", "SELECT 1", "--remote"], "--remote is not supported"),
        (["migrations", "apply", "DB"], "No migrations folder found"),
    ],
)
def test_mistakes_are_one_clear_line(project: Path, args: list[str], message: str) -> None:
    result = d1(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_migrations_create_list_apply(project: Path) -> None:
    first = d1("migrations", "create", "DB", "create users")
    assert first.exit_code == 0, first.output
    folder = project / "db" / "migrations"
    path = folder / "0001_create_users.sql"
    assert path.read_text().startswith("-- Migration number: 0001 \t ")
    path.write_text(path.read_text() + "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n")
    assert d1("migrations", "create", "DB", "seed").exit_code == 0
    (folder / "0002_seed.sql").write_text("INSERT INTO users (email) VALUES ('a@x');")

    listed = d1("migrations", "list", "DB")
    assert "0001_create_users.sql" in listed.output and "0002_seed.sql" in listed.output

    applied = d1("migrations", "apply", "DB", "--local")
    assert applied.exit_code == 0, applied.output
    assert "Applied 0001_create_users.sql" in applied.output and "2 migration(s)" in applied.output
    assert query(project, "SELECT email FROM users") == [{"email": "a@x"}]
    rows = query(project, "SELECT id, name, applied_at FROM d1_migrations ORDER BY id")
    assert [r["name"] for r in rows] == ["0001_create_users.sql", "0002_seed.sql"]
    assert all(r["applied_at"] for r in rows)

    assert "No migrations to apply!" in d1("migrations", "list", "DB").output
    assert "No migrations to apply!" in d1("migrations", "apply", "DB").output


def test_a_failing_migration_rolls_back_and_stops(project: Path) -> None:
    folder = project / "db" / "migrations"
    folder.mkdir(parents=True)
    (folder / "0001_ok.sql").write_text("CREATE TABLE a (x);")
    (folder / "0002_bad.sql").write_text("CREATE TABLE b (x);\nINSERT INTO missing VALUES (1);")
    (folder / "0003_later.sql").write_text("CREATE TABLE c (x);")
    result = d1("migrations", "apply", "DB")
    assert result.exit_code == 1
    assert "Applied 0001_ok.sql" in result.output
    assert "Migration 0002_bad.sql failed" in result.output
    assert "no such table: missing: SQLITE_ERROR" in result.output
    tables = {
        r["name"] for r in query(project, "SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert "a" in tables and "b" not in tables and "c" not in tables
    assert [r["name"] for r in query(project, "SELECT name FROM d1_migrations")] == ["0001_ok.sql"]
    # fixed file: the next apply picks up where it stopped
    (folder / "0002_bad.sql").write_text("CREATE TABLE b (x);")
    again = d1("migrations", "apply", "DB")
    assert again.exit_code == 0 and "2 migration(s) applied" in again.output


def test_custom_migrations_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wrangler.toml").write_text(
        CONFIG.replace('migrations_dir = "db/migrations"', 'migrations_table = "my_migrations"')
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001_x.sql").write_text("CREATE TABLE x (y);")
    assert d1("migrations", "apply", "DB").exit_code == 0
    assert query(tmp_path, "SELECT name FROM my_migrations") == [{"name": "0001_x.sql"}]
