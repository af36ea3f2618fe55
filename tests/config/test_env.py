from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.conftest import Write
from wranglerpy.config.load import load_worker
from wranglerpy.config.schema import KVNamespace, Placement, Route
from wranglerpy.errors import ConfigError

BASE = """
name = "api"
main = "src/a.py"
compatibility_date = "2025-09-01"
compatibility_flags = ["python_workers"]
routes = ["a.com/*"]
workers_dev = false

[vars]
MODE = "dev"

[placement]
mode = "smart"

[build]
command = "make"

[dev]
port = 9000

[[kv_namespaces]]
binding = "KV"

[triggers]
crons = ["0 * * * *"]

[env.production]
compatibility_date = "2025-10-01"
route = "prod.a.com/*"

[env.production.vars]
MODE = "prod"

[env.staging]
name = "api-stage"
main = "src/b.py"
[[env.staging.kv_namespaces]]
binding = "KV"
id = "staging-kv"
"""


def test_no_env_uses_top_level(write: Write) -> None:
    w = load_worker(write("wrangler.toml", BASE))
    assert w.name == "api" and w.env_name is None and dict(w.vars) == {"MODE": "dev"}


def test_env_inherits_and_overrides(write: Write, tmp_path: Path) -> None:
    w = load_worker(write("wrangler.toml", BASE), "production")
    assert w.name == "api-production" and w.base_name == "api" and w.env_name == "production"
    assert w.main == tmp_path / "src" / "a.py"
    assert w.compatibility_date == "2025-10-01"
    assert w.compatibility_flags == ("python_workers",)
    assert w.routes == (Route("prod.a.com/*"),)  # env's route replaces top-level routes
    assert w.workers_dev is False
    assert w.placement == Placement(mode="smart")
    assert w.build.command == "make" and w.dev.port == 9000
    assert w.triggers.crons == ("0 * * * *",)
    assert dict(w.vars) == {"MODE": "prod"}
    # Bindings are not inherited.
    assert w.kv_namespaces == ()
    assert w.warnings == (
        '"kv_namespaces" exists at the top level, but not on "env.production". This is not '
        'what you probably want, since "kv_namespaces" is not inherited by environments. '
        'Please add "kv_namespaces" to "env.production".',
    )


def test_env_own_name_and_missing_vars_warning(write: Write, tmp_path: Path) -> None:
    w = load_worker(write("wrangler.toml", BASE), "staging")
    assert w.name == "api-stage" and w.base_name == "api"
    assert w.main == tmp_path / "src" / "b.py"
    assert w.routes == (Route("a.com/*"),)
    assert w.kv_namespaces == (KVNamespace("KV", "staging-kv"),)
    assert w.vars == ()
    assert w.warnings == (
        '"vars" exists at the top level, but not on "env.staging". This is not what you '
        'probably want, since "vars" is not inherited by environments. '
        'Please add "vars" to "env.staging".',
    )


def test_unknown_env_lists_available(write: Write) -> None:
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", BASE), "prod")
    assert info.value.file == "wrangler.toml"
    assert "production, staging" in str(info.value) and '"prod"' in str(info.value)
    with pytest.raises(ConfigError, match=r"\(none defined\)"):
        load_worker(write("wrangler.toml", 'name = "w"\n'), "production")


def test_env_errors_name_env_key_path(write: Write) -> None:
    text = 'name = "w"\n[env.production]\n[[env.production.d1_databases]]\nbinding = 3\n'
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", text), "production")
    assert info.value.key == "env.production.d1_databases[0].binding"
    # An inherited key is reported at its top-level path.
    text = 'name = "w"\nmain = 3\n[env.production]\n'
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", text), "production")
    assert info.value.key == "main"


def test_env_section_must_be_table(write: Write) -> None:
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", 'name = "w"\nenv = { production = 1 }\n'))
    assert info.value.key == "env.production"


def test_env_warnings_for_unknown_and_top_level_only_keys(write: Write) -> None:
    text = """
    name = "w"
    [env.production]
    bogus = 1
    dispatch_namespaces = []
    [env.production.dev]
    port = 1
    """
    w = load_worker(write("wrangler.toml", text), "production")
    assert 'Unexpected fields found in env.production field: "bogus"' in w.warnings
    assert any('"env.production.dev" is ignored' in x for x in w.warnings)
    assert any(
        '"env.production.dispatch_namespaces" is not supported locally' in x for x in w.warnings
    )
    assert w.dev.port is None


def test_legacy_env_false_keeps_name(write: Write) -> None:
    text = 'name = "w"\nlegacy_env = false\n[env.production]\n'
    assert load_worker(write("wrangler.toml", text), "production").name == "w"


def test_env_duplicate_binding(write: Write) -> None:
    text = """
    name = "w"
    [env.p.vars]
    AI = "x"
    [env.p.ai]
    binding = "AI"
    """
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", text), "p")
    assert info.value.key == "env.p.ai.binding"
    assert "env.p.vars.AI" in info.value.reason


def test_env_jsonc(write: Write) -> None:
    text = '{"name": "w", "env": {"production": {"vars": {"A": 1},},},}'
    w = load_worker(write("wrangler.jsonc", text), "production")
    assert w.name == "w-production" and dict(w.vars) == {"A": 1}
