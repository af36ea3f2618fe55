"""``wranglerpy types``: the ``js`` stubs type ``env`` for mypy as pywrangler's do
(cloudflare/workers-py packages/cli/tests/test_types.py checks the same reveal_type lines)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.cli.main import app

CONFIG = """
name = "typed"
main = "src/entry.py"
compatibility_date = "2025-08-14"
kv_namespaces = [{ binding = "FOO", id = "x" }]
[vars]
API_VERSION = "v1"
RETRIES = 3
[[d1_databases]]
binding = "DB"
[ai]
binding = "AI"
"""

WORKER = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from js import Env

async def handle(env: "Env") -> str:
    reveal_type(env.FOO)
    reveal_type(env.API_VERSION)
    reveal_type(env.RETRIES)
    row = await env.DB.prepare("SELECT 1").bind(1).first()
    await env.FOO.put("k", "v")
    env.NOPE
    return "ok"
"""


def test_types_writes_stubs_that_mypy_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(WORKER)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["types"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "typings" / "js" / "__init__.pyi").is_file()
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "src/entry.py"],
        cwd=tmp_path,
        env={"MYPYPATH": str(tmp_path / "typings"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    ).stdout
    assert 'Revealed type is "js.KVNamespace"' in checked, checked
    assert 'Revealed type is "str"' in checked
    assert 'Revealed type is "int"' in checked
    assert '"Env" has no attribute "NOPE"' in checked
    assert checked.count("error:") == 1, checked


def test_types_without_a_config_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["types"])
    assert result.exit_code != 0 and "No wrangler.toml" in result.output
