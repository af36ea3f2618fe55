"""Fuzzing the config loader: any file gives a WorkerConfig or a one-line ConfigError."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ
from wranglerpy.config.load import load_worker
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.errors import ConfigError

pytestmark = pytest.mark.timeout(300)

KEYS = [
    "name", "main", "compatibility_date", "compatibility_flags", "vars", "kv_namespaces",
    "d1_databases", "r2_buckets", "analytics_engine_datasets", "services", "ai", "triggers",
    "build", "dev", "assets", "routes", "route", "env", "placement", "observability",
    "workers_dev", "account_id",
]  # fmt: skip
SUBKEYS = [
    "binding", "id", "database_name", "database_id", "bucket_name", "dataset", "service",
    "crons", "command", "cwd", "watch_dir", "port", "ip", "directory", "pattern", "mode",
    "migrations_dir", "environment", "entrypoint", "not_found_handling",
]  # fmt: skip
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30
) | st.sampled_from(
    ["", "..", "../../etc", "/", "~", "__class__", "a" * 300, "0 0 31 2 *", "² * * * *",
     "2999-01-01", "2024-02-30", "w", "DB", "*/5 * * * *", "\x00", "é"]
)  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT
JSONISH = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(SUBKEYS) | TEXT, inner, max_size=4)
    ),
    max_leaves=20,
)
CONFIGS = st.dictionaries(st.sampled_from(KEYS), JSONISH, max_size=8)


def _check(path: Path, env: str | None = None) -> None:
    try:
        config = load_worker(path, env)
    except ConfigError as exc:
        message = str(exc)
        assert message and "Traceback" not in message
        return
    assert isinstance(config, WorkerConfig)


@FUZZ
@given(data=CONFIGS, env=st.none() | TEXT)
def test_json_configs(
    tmp_path: Path, no_fd_leak: None, data: dict[str, Any], env: str | None
) -> None:
    path = tmp_path / "wrangler.json"
    try:
        text = json.dumps(data, allow_nan=True)
    except ValueError:
        return  # not representable as JSON at all
    path.write_text(text, encoding="utf-8")
    _check(path, env)


@FUZZ
@given(
    text=st.text(max_size=400)
    | st.lists(
        st.sampled_from(
            ['name = "w"\n', "[vars]\n", "X = [[[[", "]]]]\n", "[[kv_namespaces]]\n",
             'binding = "K"\n', 'id = "x"\n', "[triggers]\n", 'crons = ["² * * * *"]\n',
             "[build]\n", 'watch_dir = "/"\n', 'cwd = "nope"\n', "[env.a]\n", "= =\n",
             'compatibility_date = 2999-01-01\n', "[dev]\nport = 99999\n", "\x00", '"""'],
        ),
        max_size=12,
    ).map("".join)
)  # fmt: skip
def test_toml_text(tmp_path: Path, no_fd_leak: None, text: str) -> None:
    path = tmp_path / "wrangler.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _check(path)


@FUZZ
@given(raw=st.binary(max_size=300), suffix=st.sampled_from([".toml", ".json", ".jsonc"]))
def test_arbitrary_bytes(tmp_path: Path, no_fd_leak: None, raw: bytes, suffix: str) -> None:
    path = tmp_path / f"wrangler{suffix}"
    path.write_bytes(raw)
    _check(path)


@pytest.mark.parametrize("depth", [10, 100, 900, 3000, 20000])
@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_nesting(tmp_path: Path, depth: int, suffix: str) -> None:
    nested = "[" * depth + "]" * depth
    if suffix == ".toml":
        text = f'name = "w"\n[vars]\nX = {nested}\n'
    else:
        text = '{"name": "w", "vars": {"X": ' + nested + "}}"
    path = tmp_path / f"wrangler{suffix}"
    path.write_text(text)
    _check(path)


def test_printable_garbage_in_every_key(tmp_path: Path) -> None:
    for key in KEYS:
        values: list[object] = [string.printable, ["\x00"], {"a": {"b": {}}}, 1e309, -1]
        for value in values:
            path = tmp_path / "wrangler.json"
            path.write_text(json.dumps({"name": "w", key: value}))
            _check(path)
