import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.bindings.kv import KVNamespaceBinding, namespace_path
from wranglerpy.cli.main import app

CONFIG = """
name = "kvtest"
main = "src/entry.py"

[[kv_namespaces]]
binding = "KV"
id = "ns-main"
preview_id = "ns-preview"

[[kv_namespaces]]
binding = "OTHER"
id = "ns-other"

[env.staging]
name = "kvtest-staging"

[[env.staging.kv_namespaces]]
binding = "KV"
id = "ns-staging"
"""

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def kv(*args: str):
    return runner.invoke(app, ["kv", *args])


def stored(persist: Path, ident: str, key: str) -> bytes | None:
    async def read() -> bytes | None:
        ns = KVNamespaceBinding(namespace_path(persist, ident))
        try:
            return await ns.get(key, "arrayBuffer")
        finally:
            ns.close()

    return asyncio.run(read())


def test_put_get_list_delete_round_trip(project: Path) -> None:
    state = project / ".wranglerpy" / "state"
    result = kv("key", "put", "greeting", "hello", "--binding", "KV")
    assert result.exit_code == 0, result.output
    assert 'to key "greeting" on namespace ns-main' in result.output
    assert stored(state, "ns-main", "greeting") == b"hello"

    got = kv("key", "get", "greeting", "--binding", "KV", "--text")
    assert got.exit_code == 0 and got.output == "hello\n"
    raw = kv("key", "get", "greeting", "--binding", "KV")
    assert raw.stdout_bytes == b"hello"

    kv("key", "put", "gone", "x", "--binding", "KV", "--ttl", "120", "--metadata", '{"a": 1}')
    listed = kv("key", "list", "--binding", "KV")
    keys = json.loads(listed.output)
    assert [k["name"] for k in keys] == ["gone", "greeting"]
    assert keys[0]["metadata"] == {"a": 1} and keys[0]["expiration"] > 0
    assert json.loads(kv("key", "list", "--binding", "KV", "--prefix", "gr").output) == [
        {"name": "greeting"}
    ]

    deleted = kv("key", "delete", "greeting", "--binding", "KV")
    assert deleted.exit_code == 0 and 'Deleting the key "greeting"' in deleted.output
    missing = kv("key", "get", "greeting", "--binding", "KV")
    assert missing.exit_code == 1 and "Value not found" in missing.output


def test_the_peer_benchmark_seed_line_works(project: Path, tmp_path: Path) -> None:
    (project / "wrangler-streaming.toml").write_text(CONFIG)
    state = tmp_path / "bench-state"
    result = kv(
        "key", "put", "--local", "--persist-to", str(state), "-c", "wrangler-streaming.toml",
        "--binding", "KV", "bench", "hello-from-kv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert stored(state, "ns-main", "bench") == b"hello-from-kv"


def test_put_from_a_file_and_by_namespace_id_without_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02")
    result = kv("key", "put", "k", "--path", "blob.bin", "--namespace-id", "raw-id")
    assert result.exit_code == 0, result.output
    assert "the contents of blob.bin" in result.output
    assert stored(tmp_path / ".wranglerpy" / "state", "raw-id", "k") == b"\x00\x01\x02"


def test_env_and_preview_pick_other_namespaces(project: Path) -> None:
    state = project / ".wranglerpy" / "state"
    assert kv("key", "put", "k", "s", "--binding", "KV", "--env", "staging").exit_code == 0
    assert kv("key", "put", "k", "p", "--binding", "KV", "--preview").exit_code == 0
    assert stored(state, "ns-staging", "k") == b"s"
    assert stored(state, "ns-preview", "k") == b"p"
    assert stored(state, "ns-main", "k") is None


def test_namespace_list_shows_config_and_state(project: Path) -> None:
    kv("key", "put", "k", "v", "--namespace-id", "only/in state")
    listed = json.loads(kv("namespace", "list").output)
    assert listed == [
        {"id": "ns-main", "title": "KV", "binding": "KV"},
        {"id": "ns-other", "title": "OTHER", "binding": "OTHER"},
        {"id": "only/in state", "title": "only/in state"},
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["key", "put", "k", "v"], "exactly one of --binding or --namespace-id"),
        (["key", "put", "k", "v", "--binding", "KV", "--namespace-id", "x"], "exactly one"),
        (["key", "put", "k", "--binding", "KV"], "exactly one of VALUE or --path"),
        (["key", "put", "k", "v", "--binding", "NOPE"], 'binding name "NOPE" was not found'),
        (["key", "put", "k", "v", "--binding", "OTHER", "--preview"], "has no preview_id"),
        (
            ["key", "put", "k", "v", "--binding", "KV", "--ttl", "30"],
            "Expiration TTL must be at least 60",
        ),
        (
            ["key", "put", "k", "v", "--binding", "KV", "--metadata", "{"],
            "--metadata is not valid JSON",
        ),
        (["key", "put", "k", "--path", "missing.bin", "--binding", "KV"], "Cannot read --path"),
        (["key", "get", "k", "--binding", "KV", "--remote"], "--remote is not supported"),
        (["key", "list", "--binding", "KV", "-c", "nope.toml"], "Config file not found"),
    ],
)
def test_mistakes_are_one_clear_line(project: Path, args: list[str], message: str) -> None:
    result = kv(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_binding_without_any_config_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = kv("key", "get", "k", "--binding", "KV")
    assert (
        result.exit_code == 1
        and "No wrangler.json, wrangler.jsonc or wrangler.toml" in result.output
    )


def test_the_installed_command_runs(project: Path) -> None:
    cmd = [sys.executable, "-m", "wranglerpy", "kv", "key", "put", "--binding", "KV", "a", "b"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=project)
    assert done.returncode == 0, done.stderr
    assert stored(project / ".wranglerpy" / "state", "ns-main", "a") == b"b"
