"""Importing a worker's main: what a user sees when it fails."""

import sys
from pathlib import Path

import pytest

from wranglerpy.runtime.child import run_event_loop
from wranglerpy.runtime.loader import WorkerLoadError, import_worker


def load_error(tmp_path: Path, source: str) -> WorkerLoadError:
    main = tmp_path / "loader_case_main.py"
    main.write_text(source)
    with pytest.raises(WorkerLoadError) as info:
        import_worker(main)
    return info.value


def test_a_syntax_error_shows_only_its_file_line_and_caret(tmp_path):
    error = load_error(tmp_path, "x = 1\ndef f(:\n    pass\n")
    assert error.error_name == "SyntaxError"
    assert error.detail.splitlines()[0] == f'  File "{tmp_path / "loader_case_main.py"}", line 2'
    assert "importlib" not in error.detail and "wranglerpy" not in error.detail


def test_an_import_error_starts_at_the_users_line(tmp_path):
    error = load_error(tmp_path, "import a_module_nobody_has_xyz\n")
    lines = error.detail.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert "loader_case_main.py" in lines[1]
    assert lines[-1] == "ModuleNotFoundError: No module named 'a_module_nobody_has_xyz'"


def test_an_error_in_the_loop_is_not_chained_to_a_missing_uvloop(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` raises ImportError

    async def main() -> None:
        raise ValueError("from worker code")

    with pytest.raises(ValueError) as info:
        run_event_loop(main())
    assert info.value.__context__ is None
