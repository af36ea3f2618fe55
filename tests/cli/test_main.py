"""The root command imports only the command group it runs (start time of `wranglerpy dev`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wranglerpy.cli import main


def _modules_after(argv: list[str]) -> set[str]:
    """The ``wranglerpy.cli.*`` modules a fresh interpreter has imported once ``argv``'s
    command tree is built (the tree is not run)."""
    code = (
        "import sys\n"
        "from wranglerpy.cli.main import command\n"
        f"command({argv!r})\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('wranglerpy.cli.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(out.split())


def test_dev_imports_no_other_command_group() -> None:
    loaded = _modules_after(["dev", "-c", "wrangler.toml"])
    assert "wranglerpy.cli.dev" in loaded
    others = {f"wranglerpy.cli.{module}" for _, module, *_ in main.COMMANDS if module != "dev"}
    assert loaded & others == set()


def test_help_and_unknown_names_load_every_command() -> None:
    every = {f"wranglerpy.cli.{module}" for _, module, *_ in main.COMMANDS}
    assert every <= _modules_after(["--help"])
    assert every <= _modules_after(["devv"])  # "No such command ... Did you mean 'dev'?"


@pytest.mark.parametrize(
    ("argv", "invoked"),
    [
        (["dev", "--port", "8787"], "dev"),
        (["-v"], None),
        (["--help"], None),
        ([], None),
        (["durable-objects", "list"], "durable-objects"),
        (["devv"], None),
    ],
)
def test_invoked(argv: list[str], invoked: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("_WRANGLERPY_COMPLETE", raising=False)
    assert main._invoked(argv) == invoked


def test_completion_loads_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_WRANGLERPY_COMPLETE", "complete_bash")
    assert main._invoked(["kv"]) is None


def test_app_has_every_command() -> None:
    tree = main.command()
    assert set(tree.commands) == {name for name, *_ in main.COMMANDS}
