"""Crons are checked when the config is read (issue 18, findings 11 and 13)."""

from __future__ import annotations

import pytest

from tests.config.conftest import Write
from wranglerpy.config.load import load_worker
from wranglerpy.errors import ConfigError


def crons(*expressions: str) -> str:
    listed = ", ".join(f'"{e}"' for e in expressions)
    return f'name = "w"\ncompatibility_date = "2025-09-01"\n[triggers]\ncrons = [{listed}]\n'


def test_valid_crons_load(write: Write) -> None:
    w = load_worker(write("wrangler.toml", crons("*/5 * * * MON-FRI", "0 0 29 2 *", "0 12 * * *")))
    assert w.triggers.crons == ("*/5 * * * MON-FRI", "0 0 29 2 *", "0 12 * * *")
    assert w.warnings == ()


@pytest.mark.parametrize("expression", ["² * * * *", "* * * * ١", "0 0 * * MON\u200b"])
def test_non_ascii_is_a_clean_error(write: Write, expression: str) -> None:
    with pytest.raises(ConfigError, match=r"\[triggers.crons\[0\]\]: invalid cron expression"):
        load_worker(write("wrangler.toml", crons(expression)))


@pytest.mark.parametrize("expression", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"])
def test_a_cron_that_never_fires_is_refused(write: Write, expression: str) -> None:
    with pytest.raises(ConfigError, match="never fires"):
        load_worker(write("wrangler.toml", crons("* * * * *", expression)))


@pytest.mark.parametrize("expression", ["* * * *", "61 * * * *", "* * * * * *", "*/0 * * * *"])
def test_malformed_crons_name_the_key(write: Write, expression: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_worker(write("wrangler.toml", crons(expression)))
    assert info.value.key == "triggers.crons[0]"
    assert "\n" not in str(info.value)


def test_cloudflare_forms_load_and_run(write: Write) -> None:
    """L, W and # are Cloudflare's cron syntax; wranglerpy runs them (tests/fidelity/test_cron.py)."""
    w = load_worker(write("wrangler.toml", crons("0 0 L * *", "0 9 * * 2#1")))
    assert w.triggers.crons == ("0 0 L * *", "0 9 * * 2#1")
    assert not any("cron" in warning.lower() for warning in w.warnings)
