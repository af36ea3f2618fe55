"""``wranglerpy workflows``: list/describe/trigger and ``instances`` on the local store, named
as in wrangler (workers-sdk packages/wrangler/src/workflows/commands/)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.bindings.workflows import open_store
from wranglerpy.cli.main import app

runner = CliRunner()

CONFIG = """
name = "jobs"
main = "entry.py"

[[workflows]]
name = "resize"
binding = "RESIZE"
class_name = "Resize"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["workflows", *args])


def test_list_and_describe_read_the_config(project: Path) -> None:
    listed = run("list")
    assert listed.exit_code == 0, listed.output
    assert "resize" in listed.output and "Resize" in listed.output
    described = run("describe", "resize")
    assert "Class name:  Resize" in described.output
    missing = run("describe", "nope")
    assert missing.exit_code == 2 and 'No workflow named "nope"' in missing.output


def test_trigger_then_manage_an_instance(project: Path) -> None:
    made = run("trigger", "resize", '{"w": 640}', "--id", "img-1")
    assert made.exit_code == 0 and '"img-1" has been queued' in made.output
    assert run("trigger", "resize", "{bad").exit_code == 2
    dup = run("trigger", "resize", "--id", "img-1")
    assert dup.exit_code == 2 and "already_exists" in dup.output
    listed = run("instances", "list", "resize")
    assert "img-1" in listed.output and "Queued" in listed.output
    described = run("instances", "describe", "resize", "latest")
    assert 'Params:      {"w": 640}' in described.output
    assert run("instances", "pause", "resize", "img-1").exit_code == 0
    assert "Paused" in run("instances", "list", "resize", "--status", "paused").output
    assert run("instances", "resume", "resize", "img-1").exit_code == 0
    sent = run("instances", "send-event", "resize", "img-1", "--type", "go", "--payload", "1")
    assert sent.exit_code == 0, sent.output
    assert run("instances", "terminate", "resize", "img-1").exit_code == 0
    again = run("instances", "terminate", "resize", "img-1")
    assert again.exit_code == 2 and "instance.not_running" in again.output
    store = open_store(project / ".wranglerpy" / "state")
    try:
        row = store.get("resize", "img-1")
        assert row is not None and row.status == "terminated"
    finally:
        store.close()
    bad = run("instances", "list", "resize", "--status", "sleeping")
    assert bad.exit_code == 2 and "--status must be one of" in bad.output
