"""scripts/create-api-key: its provisioning against D1 (the CLI run is an integration test)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from inference_api import keys
from iui_fakes import FakeD1, FakeEnv, run

SCRIPT = (
    Path(__file__).resolve().parents[2] / "examples" / "inference-ui" / "scripts" / "create-api-key"
)


def load_script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("create_api_key", str(SCRIPT))
    spec = importlib.util.spec_from_loader("create_api_key", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_script_is_executable() -> None:
    assert SCRIPT.stat().st_mode & 0o111


def test_provision_creates_user_once_and_prints_key_last(env: FakeEnv) -> None:
    script = load_script()
    lines = run(script.provision(env.DB, "New@Example.com", "developer", "laptop", None, Path(".")))
    assert lines[0].startswith("Created user new@example.com")
    key = lines[-1]
    principal = run(keys.authenticate(env.DB, key))
    assert principal is not None and principal.tier == "developer"
    again = run(script.provision(env.DB, "new@example.com", None, "ci", 30, Path(".")))
    assert again[0].startswith("Found user new@example.com") and "tier developer" in again[0]
    assert again[-1] != key
    assert len(env.DB.rows("SELECT id FROM users")) == 1


def test_provision_explains_missing_migrations(tmp_path: Path) -> None:
    script = load_script()
    empty = tmp_path / "migrations"
    empty.mkdir()
    db = FakeD1(tmp_path / "empty.sqlite3", empty)
    with pytest.raises(script.ScriptError, match="wranglerpy d1 migrations apply inference-ui-db"):
        run(script.provision(db, "a@example.com", None, "k", None, tmp_path))


def test_provision_rejects_bad_input(env: FakeEnv) -> None:
    script = load_script()
    with pytest.raises(script.ScriptError, match="e-mail"):
        run(script.provision(env.DB, "nope", None, "k", None, Path(".")))
    with pytest.raises(script.ScriptError, match="expiresInDays"):
        run(script.provision(env.DB, "a@example.com", None, "k", 0, Path(".")))
