"""Crons are checked when the config is read (issue 18, findings 11 and 13)."""

from __future__ import annotations

import pytest

from tests.config.conftest import Write
from wranglerpy.config.load import load_worker
from wranglerpy.errors import ConfigError


def crons(*expressions: str) -> str:
    listed = ", ".join(f'"{e}"' for e in expressions)
    return f'name = "w"\n[triggers]\ncrons = [{listed}]\n'


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


def test_cloudflare_only_forms_load_with_a_warning(write: Write) -> None:
    w = load_worker(write("wrangler.toml", crons("0 0 L * *")))
    assert w.triggers.crons == ("0 0 L * *",)
    assert any("does not run locally" in warning for warning in w.warnings)
