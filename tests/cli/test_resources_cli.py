"""``kv namespace create|delete``, ``r2 bucket create|list|delete``, ``d1 create|list|info|
export|delete``: wrangler's verbs for local namespaces, buckets and databases."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.cli.main import app

runner = CliRunner()


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def fails(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    return result.output


def test_kv_namespace_create_prints_a_binding_and_lists_its_title(cwd: Path) -> None:
    out = invoke("kv", "namespace", "create", "SESSIONS")
    ident = out.split('id "')[1].split('"')[0]
    assert len(ident) == 32 and f'id = "{ident}"' in out and 'binding = "SESSIONS"' in out
    listed = json.loads(invoke("kv", "namespace", "list"))
    assert {"id": ident, "title": "SESSIONS"} in listed
    invoke("kv", "key", "put", "k", "v", "--namespace-id", ident)
    invoke("kv", "namespace", "delete", "--namespace-id", ident, "-y")
    assert json.loads(invoke("kv", "namespace", "list")) == []
    assert "No local KV namespace" in fails("kv", "namespace", "delete", "--namespace-id", ident)


def test_r2_bucket_names_follow_r2_rules(cwd: Path) -> None:
    for bad in ("Photos", "ab", "-photos", "x--", "photos-", "pho_tos", "a" * 64):
        assert "is invalid" in fails("r2", "bucket", "create", "--", bad)


def test_r2_bucket_lifecycle_refuses_to_delete_a_bucket_with_objects(cwd: Path) -> None:
    assert 'bucket_name = "photos"' in invoke("r2", "bucket", "create", "photos")
    assert "already exists" in fails("r2", "bucket", "create", "photos")
    (cwd / "a.txt").write_text("hello")
    invoke("r2", "object", "put", "photos/a.txt", "--file", "a.txt")
    assert [row["name"] for row in json.loads(invoke("r2", "bucket", "list"))] == ["photos"]
    assert "not empty" in fails("r2", "bucket", "delete", "photos")
    invoke("r2", "object", "delete", "photos/a.txt")
    invoke("r2", "bucket", "delete", "photos")
    assert json.loads(invoke("r2", "bucket", "list")) == []


def test_d1_create_info_export_delete(cwd: Path) -> None:
    out = invoke("d1", "create", "shop")
    ident = out.split('database_id = "')[1].split('"')[0]
    (cwd / "wrangler.toml").write_text(
        'name = "w"\nmain = "w.py"\n[[d1_databases]]\nbinding = "DB"\n'
        f'database_name = "shop"\ndatabase_id = "{ident}"\n'
    )
    invoke(
        "d1",
        "execute",
        "shop",
        "--command",
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB); "
        "INSERT INTO t VALUES (1, 'it''s', x'00ff'); CREATE INDEX tb ON t(b)",
    )
    [info] = json.loads(invoke("d1", "info", "shop"))
    assert info["uuid"] == ident and info["num_tables"] == 1 and info["database_size"] > 0
    invoke("d1", "export", "shop", "--output", "dump.sql")
    dump = (cwd / "dump.sql").read_text()
    assert dump.startswith("PRAGMA defer_foreign_keys=TRUE;") and "_cf_" not in dump
    copy = sqlite3.connect(":memory:")
    copy.executescript(dump)
    assert copy.execute("SELECT a, b, c FROM t").fetchall() == [(1, "it's", b"\x00\xff")]
    copy.close()
    schema_only = invoke("d1", "export", "shop", "--output", "schema.sql", "--no-data")
    assert "Exported" in schema_only and "INSERT" not in (cwd / "schema.sql").read_text()
    assert "No table nope" in fails("d1", "export", "shop", "--output", "x.sql", "--table", "nope")
    invoke("d1", "delete", "shop", "-y")
    assert "no local data" in fails("d1", "info", "shop")


def test_d1_create_refuses_a_duplicate_name(cwd: Path) -> None:
    invoke("d1", "create", "shop")
    assert "exists already" in fails("d1", "create", "shop")
    assert "Couldn't find" in fails("d1", "info", "nothing")


@pytest.mark.parametrize(
    "create",
    [
        ["r2", "bucket", "create", "photos"],
        ["kv", "namespace", "create", "S"],
        ["d1", "create", "db"],
    ],
)
def test_created_resources_are_private(cwd: Path, create: list[str]) -> None:
    """README, "Bindings: KV and D1": local state is private (folders 0700, files 0600)."""
    invoke(*create)
    state = cwd / ".wranglerpy" / "state"
    for path in [state, *state.rglob("*")]:
        want = 0o700 if path.is_dir() else 0o600
        assert path.stat().st_mode & 0o777 == want, path
