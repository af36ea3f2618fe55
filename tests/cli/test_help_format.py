"""Help output names value types in click's words, never Python's annotations."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "args",
    [
        ["dev", "--help"],
        ["kv", "key", "put", "--help"],
        ["rollback", "--help"],
        ["r2", "object", "put", "--help"],  # an argument with its own metavar (BUCKET/KEY)
    ],
)
def test_help_shows_click_metavars_not_python_types(args: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "wranglerpy", *args], capture_output=True, text=True, check=True
    ).stdout
    assert "<list[" not in out and "<str>" not in out and "<int>" not in out, out
    assert "PATH" in out or "TEXT" in out
