from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.conftest import Write
from wranglerpy.config.dotenv import load_dev_vars, parse_dotenv
from wranglerpy.config.load import load_worker
from wranglerpy.errors import ConfigError


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
        "D": 'line\nnext "q"',
        "E": "",
        "F": "multi\nline",
        "G": "pass#word",
        "H": "tick",
    }


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("A=1\nnot a pair\n", 2, "expected KEY=VALUE"),
        ("A=1\n\n1X=2\n", 3, "expected KEY=VALUE"),
        ('A="open\nB=2\n', 1, "unterminated"),
        ('A="x" y\n', 1, "after the closing quote"),
    ],
)
def test_bad_lines(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_dotenv(text, ".dev.vars")
    assert info.value.file == ".dev.vars" and info.value.line == line
    assert message in info.value.reason


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


def test_bad_dev_vars_line_in_worker(write: Write) -> None:
    path = write("wrangler.toml", 'name = "w"\n')
    write(".dev.vars", "OK=1\noops\n")
    with pytest.raises(ConfigError) as info:
        load_worker(path)
    assert str(info.value).startswith(".dev.vars:2: expected KEY=VALUE")
