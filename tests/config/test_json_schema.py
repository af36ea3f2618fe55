"""The shipped JSON Schema for wrangler configs: up to date, covering every key the loader
accepts, accepting the configs this repo ships and rejecting what the loader warns about."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from wranglerpy.config import json_schema
from wranglerpy.config.load import _KNOWN_TOP
from wranglerpy.config.read import read_raw
from wranglerpy.config.sections import _DEV_KEYS

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [
    *sorted((ROOT / "templates").rglob("wrangler*.jsonc")),
    *sorted((ROOT / "examples").rglob("wrangler*.toml")),
]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return dict(json.loads(json_schema.SCHEMA_PATH.read_text()))


def test_shipped_file_is_generated(schema: dict[str, Any]) -> None:
    assert schema == json_schema.build(), "run: python -m wranglerpy.config.json_schema"
    jsonschema.Draft7Validator.check_schema(schema)


def test_every_key_the_loader_accepts_is_described(schema: dict[str, Any]) -> None:
    assert set(_KNOWN_TOP) <= set(schema["properties"])
    assert set(_DEV_KEYS) <= set(schema["properties"]["dev"]["properties"])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_configs_validate(path: Path, tmp_path: Path, schema: dict[str, Any]) -> None:
    copy = tmp_path / path.name
    copy.write_text(path.read_text().replace("{{name}}", "demo"))
    jsonschema.validate(read_raw(copy), schema)


@pytest.mark.parametrize(
    "config",
    [
        {"name": "w", "kv_namespace": [{"binding": "KV"}]},  # typo'd key
        {"name": "w", "dev": {"port": "8787"}},
        {"name": "w", "r2_buckets": [{"bucket_name": "b"}]},  # binding missing
        {"name": "w", "env": {"prod": {"dev": {"port": 1}}}},  # dev is top-level only
        {"name": "W"},
    ],
)
def test_mistakes_are_flagged(config: dict[str, Any], schema: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, schema)
