from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.cli.main import app

runner = CliRunner()


def test_models_lists_local_models_and_cloudflare_names(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ai", "models", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "smollm2-135m-instruct" in result.output and "all-minilm-l6-v2" in result.output
    assert "@cf/meta/llama-3.1-8b-instruct" in result.output
    assert "wranglerpy ai pull" in result.output


def test_pull_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ai", "pull", "@cf/foo/bar", "--cache-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "No such model @cf/foo/bar" in result.output
    assert "Traceback" not in result.output


def test_pull_model_and_all_together_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ai", "pull", "smollm2-135m-instruct", "--all", "--cache-dir", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "not both" in result.output


def test_models_shows_the_configs_ai_models_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "wrangler.toml").write_text(
        'name = "w"\nmain = "w.py"\n[ai]\nbinding = "AI"\n'
        '[ai.models]\n"@cf/my/model" = "smollm2-135m-instruct"\n'
    )
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ai", "models", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    names = json.loads(result.stdout.splitlines()[1])["Cloudflare names"]
    row = next(x for x in names if x["model"] == "@cf/my/model")
    assert row == {
        "model": "@cf/my/model",
        "runs on": "smollm2-135m-instruct",
        "from": "[ai.models] in wrangler.toml",
    }


def test_models_refuses_an_override_to_an_unknown_local_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "wrangler-x.toml"
    config.write_text(
        'name = "w"\nmain = "w.py"\n[ai]\nbinding = "AI"\n[ai.models]\n"@cf/my/model" = "gpt-9"\n'
    )
    result = runner.invoke(app, ["ai", "models", "-c", str(config), "--cache-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "not a local model" in result.output and "Traceback" not in result.output
