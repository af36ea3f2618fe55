import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.bindings.analytics_engine import AnalyticsEngineBinding, dataset_path
from wranglerpy.bindings.r2 import R2BucketBinding, bucket_path
from wranglerpy.cli.main import app

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "wrangler.toml").write_text('name = "s"\nmain = "src/entry.py"\n')
    monkeypatch.chdir(tmp_path)
    state = tmp_path / ".wranglerpy" / "state"
    ae = AnalyticsEngineBinding(dataset_path(state, "hits"))
    ae.writeDataPoint()
    ae.close()

    async def put() -> None:
        bucket = R2BucketBinding(bucket_path(state, "photos"))
        await bucket.put("k", "v")
        bucket.close()

    asyncio.run(put())
    return tmp_path


def reset(*args: str, input: str | None = None):
    return runner.invoke(app, ["state", "reset", *args], input=input)


def test_reset_asks_and_lists_what_it_removes(project: Path) -> None:
    state = project / ".wranglerpy" / "state"
    declined = reset(input="n\n")
    assert declined.exit_code == 1 and "Nothing deleted." in declined.output
    assert state.is_dir()
    result = reset(input="y\n")
    assert result.exit_code == 0, result.output
    assert "Analytics Engine dataset hits" in result.output
    assert "R2 bucket photos" in result.output
    assert f"Removed {state} (2 items)." in result.output
    assert not state.exists() and (project / "wrangler.toml").exists()
    again = reset("--yes")
    assert again.exit_code == 0 and "Nothing to reset" in again.output


def test_reset_yes_and_persist_to(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "kv" / "ns").mkdir(parents=True)
    result = reset("--yes", "--persist-to", str(other))
    assert result.exit_code == 0 and "KV namespace ns" in result.output
    assert not other.exists() and (project / ".wranglerpy" / "state").is_dir()


def test_reset_refuses_folders_that_are_not_state(project: Path, tmp_path: Path) -> None:
    for folder in (project, Path.home(), Path("/")):
        result = reset("--yes", "--persist-to", str(folder))
        assert result.exit_code == 1 and "Refusing to delete" in result.output
    looks_like_project = tmp_path / "proj"
    looks_like_project.mkdir()
    (looks_like_project / "pyproject.toml").write_text("")
    refused = reset("--yes", "--persist-to", str(looks_like_project))
    assert refused.exit_code == 1 and "looks like a project" in refused.output
    assert (looks_like_project / "pyproject.toml").exists() and (project / "wrangler.toml").exists()


def test_reset_warns_about_processes_holding_stores_open(project: Path) -> None:
    state = project / ".wranglerpy" / "state"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; f = open(sys.argv[1], 'rb'); print('open', flush=True); time.sleep(30)",
            str(state / "analytics_engine" / "hits" / "points.sqlite"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        result = reset(input="n\n")
        assert f"Warning: process(es) {holder.pid} have stores in it open" in result.output
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert "Warning" not in reset(input="n\n").output


def test_reset_refuses_folders_with_anything_but_state(tmp_path: Path, project: Path) -> None:
    other = tmp_path / "v"
    (other / "photos").mkdir(parents=True)
    (other / "r2").mkdir()
    (other / "todo.txt").write_text("x")
    result = reset("--yes", "--persist-to", str(other))
    assert result.exit_code == 1
    assert "it holds photos/, todo.txt, which local state never contains" in result.output
    assert (other / "todo.txt").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert reset("--yes", "--persist-to", str(empty)).exit_code == 0 and not empty.exists()


def test_reset_is_refused_while_dev_runs_on_the_folder(project: Path) -> None:
    """Issue 18, finding 14: `state reset --yes` under a running dev lost its later writes."""
    from wranglerpy.bindings import state_lock

    state = project / ".wranglerpy" / "state"
    session = state_lock.hold_for_dev([state])  # what run_dev holds for its lifetime
    try:
        result = reset("--yes")
        assert result.exit_code == 1
        assert "a running `wranglerpy dev` uses it" in result.output
        assert state.is_dir() and any(state.iterdir())
    finally:
        session.release()
    assert reset("--yes").exit_code == 0 and not state.exists()


def test_reset_deletes_the_state_of_every_binding_kind(tmp_path: Path, project: Path) -> None:
    """README: `wranglerpy state reset` deletes everything (Durable Objects, queues, ...)."""
    from wranglerpy.bindings.queues.store import QueueStore, store_path

    state = project / ".wranglerpy" / "state"
    QueueStore(store_path(state)).close()  # what `wranglerpy queues create` and a producer write
    for folder in ("do/w-Room", "workflows", "vectorize/docs", "ratelimit/1001", "cache"):
        (state / folder).mkdir(parents=True)
    (state / "do" / "metadata.sqlite").write_bytes(b"")
    result = reset("--yes")
    assert result.exit_code == 0, result.output
    for line in ("Durable Object class w-Room", "Queues (every queue", "Vectorize index docs"):
        assert line in result.output
    assert "metadata.sqlite" not in result.output
    assert not state.exists()
