from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.conftest import Write
from wranglerpy.config.dotenv import load_dev_vars, parse_dotenv, skipped_lines
from wranglerpy.config.load import load_worker


def test_syntax() -> None:
    text = (
        "# comment\n"
        "\n"
        "A=1\n"
        "export B = two words  # trailing comment\n"
        "C='single # not a comment \\n'\n"
        'D="line\\nnext \\"q\\""  # c\n'
        "E=\n"
        'F="multi\n'
        'line"\n'
        "G=pass#word\n"
        "H=`tick`\n"
    )
    assert parse_dotenv(text, ".dev.vars") == {
        "A": "1",
        "B": "two words",
        "C": "single # not a comment \\n",
        "D": 'line\nnext \\"q\\"',  # dotenv unescapes only \\n and \\r
        "E": "",
        "F": "multi\nline",
        "G": "pass",  # dotenv ends an unquoted value at the first #
        "H": "tick",
    }


@pytest.mark.parametrize(
    ("text", "values", "skipped"),
    [
        ("A=1\nnot a pair\n", {"A": "1"}, [2]),
        ("A=1\n\n1X=2\n", {"A": "1", "1X": "2"}, []),  # dotenv keys may start with a digit
        ('A="open\nB=2\n', {"A": '"open', "B": "2"}, []),
        ('A="x" y\n', {"A": '"x" y'}, []),  # not a quoted value: kept as written
    ],
)
def test_lines_dotenv_does_not_read(text: str, values: dict, skipped: list) -> None:
    """npm dotenv never fails: what it cannot read is skipped (and wranglerpy warns)."""
    assert parse_dotenv(text, ".dev.vars") == values
    assert skipped_lines(text) == skipped


def test_precedence(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=env\nB=env\n")
    (tmp_path / ".env.local").write_text("B=env-local\n")
    (tmp_path / ".env.production").write_text("C=env-prod\n")
    assert load_dev_vars(tmp_path, None) == {"A": "env", "B": "env-local"}
    assert load_dev_vars(tmp_path, "production") == {"A": "env", "B": "env-local", "C": "env-prod"}
    # Any matching .dev.vars file replaces the whole .env family.
    (tmp_path / ".dev.vars").write_text("A=dev\n")
    assert load_dev_vars(tmp_path, None) == {"A": "dev"}
    assert load_dev_vars(tmp_path, "production") == {"A": "dev"}
    (tmp_path / ".dev.vars.production").write_text("A=dev-prod\n")
    assert load_dev_vars(tmp_path, "production") == {"A": "dev-prod"}
    assert load_dev_vars(tmp_path, "staging") == {"A": "dev"}


def test_no_files(tmp_path: Path) -> None:
    assert load_dev_vars(tmp_path, "production") == {}


def test_secrets_override_vars_in_worker(write: Write) -> None:
    path = write("wrangler.toml", 'name = "w"\n[vars]\nTOKEN = "public"\nA = 1\n')
    write(".dev.vars", "TOKEN=secret\n")
    w = load_worker(path)
    assert w.secrets == (("TOKEN", "secret"),)
    assert w.vars_dict() == {"TOKEN": "secret", "A": 1}


def test_secret_shadowing_binding_warns(write: Write) -> None:
    path = write("wrangler.toml", 'name = "w"\n[[kv_namespaces]]\nbinding = "KV"\n')
    write(".dev.vars", "KV=x\n")
    assert any('secret "KV"' in x for x in load_worker(path).warnings)


def test_bad_dev_vars_line_in_worker_is_a_warning(write: Write) -> None:
    path = write("wrangler.toml", 'name = "w"\n')
    write(".dev.vars", "OK=1\noops\n")
    worker = load_worker(path)
    assert worker.secrets == (("OK", "1"),)
    assert any(w.startswith(".dev.vars:2: not a KEY=VALUE line") for w in worker.warnings)
