"""``wranglerpy whoami``: no account, and where local state and the edge live."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.cli.main import app


def test_whoami_names_the_worker_state_and_edge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "wrangler.toml").write_text('name = "hello"\nmain = "entry.py"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["whoami", "--state-dir", str(tmp_path / "edge")])
    assert result.exit_code == 0, result.output
    assert "there is no login" in result.output
    assert "hello (wrangler.toml)" in result.output
    assert str(tmp_path / ".wranglerpy" / "state") in result.output
    assert "not running" in result.output and "nothing yet" in result.output
