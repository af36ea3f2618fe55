"""Deliver 8: local secrets files read as wrangler reads them (npm dotenv, dotenv-expand)."""

from __future__ import annotations

from pathlib import Path

from wranglerpy.config.dotenv import expand, load_dev_vars, parse_dotenv


def test_dev_vars_parse_as_npm_dotenv() -> None:
    """dotenv 16 lib/main.js LINE: `KEY: v`, unquoted values end at #, only \\n and \\r are
    unescaped in double quotes, single quotes are literal, non-assignments are skipped."""
    text = "A: colon\nB=x#y\nC=\"a\\nb \\t\"\nD='e\\nf'\njunk\nE=1\nE=2\n"
    assert parse_dotenv(text) == {"A": "colon", "B": "x", "C": "a\nb \\t", "D": "e\\nf", "E": "2"}


def test_env_files_are_expanded_dev_vars_are_not(tmp_path: Path) -> None:
    """wrangler expands .env files with dotenv-expand; .dev.vars values stay as written."""
    (tmp_path / ".env").write_text("HOST=db\nURL=pg://${HOST}:${PORT:-5432}/x\nLIT=\\$HOST\n")
    assert load_dev_vars(tmp_path, None)["URL"] == "pg://db:5432/x"
    assert load_dev_vars(tmp_path, None)["LIT"] == "$HOST"
    (tmp_path / ".dev.vars").write_text("HOST=db\nURL=pg://${HOST}\n")
    assert load_dev_vars(tmp_path, None)["URL"] == "pg://${HOST}"


def test_expand_defaults() -> None:
    """dotenv-expand: ${X:-d} when X is unset or empty, ${X-d} only when unset."""
    parsed = {"EMPTY": "", "A": "${EMPTY:-d1}", "B": "${EMPTY-d2}", "C": "${NONE-d3}", "D": "$NONE"}
    assert expand(parsed, {}) == {"EMPTY": "", "A": "d1", "B": "", "C": "d3", "D": ""}
