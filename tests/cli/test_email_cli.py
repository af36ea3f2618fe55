"""``wranglerpy email list|show`` read what send_email bindings recorded."""

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.bindings import send_email
from wranglerpy.bindings.send_email.binding import EmailMessage
from wranglerpy.cli.main import app
from wranglerpy.config.schema import SendEmail

runner = CliRunner()
RAW = "From: a@x.com\r\nTo: b@y.com\r\nSubject: Raw one\r\nMessage-ID: <1@x.com>\r\n\r\nbody\r\n"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "state"
    binding = send_email.create(SendEmail("EMAIL"), state)

    async def send() -> None:
        await binding.send(EmailMessage("a@x.com", "b@y.com", RAW))
        await binding.send(
            {"from": "a@x.com", "to": "c@y.com", "subject": "Built", "html": "<b>hi</b>"}
        )

    asyncio.run(send())
    binding.close()
    return state


def test_list_and_show(state: Path) -> None:
    listed = runner.invoke(app, ["email", "list", "--json", "--persist-to", str(state)])
    assert listed.exit_code == 0, listed.output
    messages = json.loads(listed.stdout)
    assert [m["subject"] for m in messages] == ["Built", "Raw one"]
    table = runner.invoke(app, ["email", "list", "--persist-to", str(state)])
    assert "Raw one" in table.stdout and "c@y.com" in table.stdout
    raw = runner.invoke(app, ["email", "show", messages[1]["id"][:8], "--persist-to", str(state)])
    assert raw.exit_code == 0 and "Message-ID: <1@x.com>" in raw.stdout
    built = runner.invoke(app, ["email", "show", messages[0]["id"], "--persist-to", str(state)])
    assert json.loads(built.stdout)["html"] == "<b>hi</b>"


def test_show_unknown_id(state: Path) -> None:
    result = runner.invoke(app, ["email", "show", "zzzz", "--persist-to", str(state)])
    assert result.exit_code == 2 and 'No single recorded message matches "zzzz"' in result.stderr


def test_list_with_no_outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["email", "list", "--persist-to", str(tmp_path / "none")])
    assert result.exit_code == 0 and "No messages sent yet." in result.stdout
