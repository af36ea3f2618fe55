"""`wranglerpy schema`, the `$schema` that `init` writes, and shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from wranglerpy.cli.init import create_project
from wranglerpy.cli.main import app
from wranglerpy.config.json_schema import SCHEMA_PATH
from wranglerpy.config.read import read_raw

runner = CliRunner()
WRANGLERPY = str(Path(sys.executable).parent / "wranglerpy")


def test_schema_prints_its_path_and_content(tmp_path: Path) -> None:
    path = runner.invoke(app, ["schema"])
    assert path.exit_code == 0 and Path(path.output.strip()) == SCHEMA_PATH
    content = runner.invoke(app, ["schema", "--print"])
    assert json.loads(content.output)["title"].startswith("wrangler config")
    relative = runner.invoke(app, ["schema", "--relative-to", str(tmp_path)])
    assert (tmp_path / relative.output.strip()).resolve() == SCHEMA_PATH


def test_init_points_schema_at_the_shipped_file(tmp_path: Path) -> None:
    for template in ("hello", "service-bindings"):
        folder = tmp_path / template
        create_project(folder, template, "demo")
        for config in folder.glob("wrangler*.jsonc"):
            raw = read_raw(config)
            assert (folder / raw["$schema"]).resolve() == SCHEMA_PATH
            jsonschema.validate(raw, json.loads(SCHEMA_PATH.read_text()))


def complete(words: str) -> list[str]:
    env = {
        **os.environ,
        "_WRANGLERPY_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    done = subprocess.run([WRANGLERPY], env=env, capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_shell_completion() -> None:
    script = runner.invoke(app, ["--show-completion", "bash"])
    assert script.exit_code == 0 and "_WRANGLERPY_COMPLETE" in script.output
    assert sorted(complete("wranglerpy de")) == ["delete", "deploy", "deployments", "dev"]
    assert "--services-port" in complete("wranglerpy dev --serv")
