"""``[limits]``: wrangler's ``cpu_ms`` and ``subrequests`` (workers-sdk
``packages/workers-utils/src/config/validation.ts`` ``normalizeAndValidateLimits``: inheritable,
numbers), with Cloudflare's documented defaults and ceilings."""

from __future__ import annotations

import pytest

from tests.config.conftest import Write
from wranglerpy.config.limits import Limits
from wranglerpy.config.load import load_worker
from wranglerpy.errors import ConfigError


def test_defaults_are_the_paid_plans(write: Write) -> None:
    config = load_worker(write("wrangler.toml", 'name = "w"\n'))
    assert config.limits == Limits(cpu_ms=30_000, subrequests=10_000)


def test_values_are_read_and_inherited_by_envs(write: Write) -> None:
    path = write(
        "wrangler.toml",
        'name = "w"\n[limits]\ncpu_ms = 300000\nsubrequests = 50\n'
        "[env.small]\nlimits = { cpu_ms = 10 }\n[env.same]\n",
    )
    assert load_worker(path).limits == Limits(cpu_ms=300_000, subrequests=50)
    assert load_worker(path, "small").limits == Limits(cpu_ms=10, subrequests=10_000)
    assert load_worker(path, "same").limits == Limits(cpu_ms=300_000, subrequests=50)


def test_jsonc_config(write: Write) -> None:
    path = write("wrangler.jsonc", '{"name": "w", "limits": {"subrequests": 10000000}}')
    assert load_worker(path).limits.subrequests == 10_000_000


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ("cpu_ms = 300001", "limits.cpu_ms", "between 1 and 300,000, got 300001"),
        ("cpu_ms = 0", "limits.cpu_ms", "between 1 and 300,000"),
        ('cpu_ms = "50"', "limits.cpu_ms", "an integer"),
        ("subrequests = 10000001", "limits.subrequests", "between 1 and 10,000,000"),
    ],
)
def test_bad_values_name_the_key(write: Write, table: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", f'name = "w"\n[limits]\n{table}\n'))
    assert info.value.key is not None and info.value.key.startswith(key)
    assert message in str(info.value)


def test_an_unknown_key_is_a_warning_as_in_wrangler(write: Write) -> None:
    config = load_worker(write("wrangler.toml", 'name = "w"\n[limits]\nsubrequest = 5\n'))
    assert any('"subrequest"' in w and "limits" in w for w in config.warnings)
    assert config.limits == Limits()
