"""``wranglerpy queues``: create/list/info/peek/purge/delete on the local store, with
wrangler's wording (workers-sdk packages/wrangler/src/queues/cli/commands/)."""

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.bindings.queues import create, open_store
from wranglerpy.cli.main import app
from wranglerpy.config.queues import QueueProducer

runner = CliRunner()


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "state"


def run(state: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["queues", *args, "--persist-to", str(state)], input=input)


def test_create_list_info_delete(state: Path) -> None:
    made = run(state, "create", "jobs")
    assert made.exit_code == 0 and "Created queue 'jobs'" in made.output
    again = run(state, "create", "jobs")
    assert again.exit_code == 2 and "already exists" in again.output
    assert run(state, "create", "bad name!").exit_code == 2
    listed = run(state, "list")
    assert listed.exit_code == 0 and "jobs" in listed.output
    info = run(state, "info", "jobs")
    assert "Queue Name: jobs" in info.output and "Number of Producers: 0" in info.output
    gone = run(state, "delete", "jobs")
    assert gone.exit_code == 0 and "Deleted queue jobs." in gone.output
    missing = run(state, "info", "jobs")
    assert missing.exit_code == 2 and "No queue named 'jobs'" in missing.output
    assert "Traceback" not in missing.output


def test_peek_shows_messages_without_consuming_and_purge_empties(state: Path) -> None:
    producer = create(QueueProducer("JOBS", "jobs"), state, worker="api")
    asyncio.run(producer.send({"task": "resize"}))
    asyncio.run(producer.send("later", contentType="text", delaySeconds=600))
    producer.close()
    peek = run(state, "peek", "jobs")
    assert peek.exit_code == 0
    assert "'task': 'resize'" in peek.output and "delayed" in peek.output
    assert "Producers: worker:api" in run(state, "info", "jobs").output
    assert len(run(state, "peek", "jobs").output.splitlines()) == 2  # peek does not consume
    refused = run(state, "purge", "jobs", input="nope\n")
    assert refused.exit_code == 2 and "Skipping purge" in refused.output
    purged = run(state, "purge", "jobs", "--force")
    assert purged.exit_code == 0 and "Purged Queue 'jobs' (2 messages)" in purged.output
    store = open_store(state)
    try:
        assert store.peek("jobs") == []
    finally:
        store.close()
