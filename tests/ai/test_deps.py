from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.ai import deps
from wranglerpy.cli.main import app
from wranglerpy.errors import AIError


def test_all_present_passes() -> None:
    deps.require()


def test_missing_packages_are_named_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = deps.find_spec
    monkeypatch.setattr(
        deps, "find_spec", lambda name: None if name in ("onnxruntime", "gguf") else real(name)
    )
    with pytest.raises(AIError, match=r"needs onnxruntime, gguf .*pip install 'wranglerpy\[ai\]'"):
        deps.require()
    result = CliRunner().invoke(app, ["ai", "pull", "--cache-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "pip install 'wranglerpy[ai]'" in result.output and "Traceback" not in result.output
