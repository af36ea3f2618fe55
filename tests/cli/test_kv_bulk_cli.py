"""``kv bulk put|delete``: wrangler's JSON files, checked whole before the first write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.cli.main import app

runner = CliRunner()


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def kv(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["kv", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_bulk_put_then_delete(cwd: Path) -> None:
    (cwd / "put.json").write_text(
        json.dumps(
            [
                {"key": "a", "value": "1"},
                {"key": "b", "value": "aGk=", "base64": True, "metadata": {"m": 1}},
                {"key": "c", "value": "3", "expiration_ttl": 3600},
            ]
        )
    )
    code, out = kv("bulk", "put", "put.json", "--namespace-id", "ns")
    assert code == 0 and "Wrote 3 key(s)" in out
    assert kv("key", "get", "b", "--namespace-id", "ns", "--text")[1].strip() == "hi"
    listed = json.loads(kv("key", "list", "--namespace-id", "ns")[1])
    assert [k["name"] for k in listed] == ["a", "b", "c"]
    (cwd / "del.json").write_text(json.dumps(["a", {"name": "b"}]))
    code, out = kv("bulk", "delete", "del.json", "--namespace-id", "ns", "--force")
    assert code == 0 and "Deleted 2 key(s)" in out
    assert [k["name"] for k in json.loads(kv("key", "list", "--namespace-id", "ns")[1])] == ["c"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"key": "a"}', "expected a JSON array"),
        ("[{", "not valid JSON"),
        (
            '[{"key": "a", "value": "1"}, {"value": "2"}]',
            'put.json [1]: expected an object with a string "key"',
        ),
        ('[{"key": "a", "value": 5}]', '"value" must be a string'),
        ('[{"key": "a", "value": "%%", "base64": true}]', "not valid base64"),
        (
            '[{"key": "a", "value": "1", "expiration_ttl": "soon"}]',
            '"expiration_ttl" must be an integer',
        ),
    ],
)
def test_bulk_put_refuses_a_bad_file_before_writing_anything(
    cwd: Path, content: str, message: str
) -> None:
    (cwd / "put.json").write_text(content)
    code, out = kv("bulk", "put", "put.json", "--namespace-id", "ns")
    assert code != 0 and message in out
    assert json.loads(kv("key", "list", "--namespace-id", "ns")[1]) == []
