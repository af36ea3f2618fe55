from __future__ import annotations

from pathlib import Path

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
