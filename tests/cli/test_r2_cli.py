import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.bindings.r2 import R2BucketBinding, bucket_path
from wranglerpy.cli.main import app

runner = CliRunner()

CONFIG = """
name = "r2test"
main = "src/entry.py"

[[r2_buckets]]
binding = "PHOTOS"
bucket_name = "photos"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def r2(*args: str, input: bytes | None = None):
    return runner.invoke(app, ["r2", *args], input=input)


def stored(persist: Path, bucket: str, key: str):
    async def read():
        b = R2BucketBinding(bucket_path(persist, bucket))
        try:
            obj = await b.get(key)
            return None if obj is None else (await obj.arrayBuffer(), obj.httpMetadata)
        finally:
            b.close()

    return asyncio.run(read())


def test_put_get_delete_round_trip(project: Path) -> None:
    state = project / ".wranglerpy" / "state"
    data = bytes(range(256)) * 5000
    (project / "in.bin").write_bytes(data)
    put = r2(
        "object",
        "put",
        "photos/dir/a.bin",
        "--file",
        "in.bin",
        "--content-type",
        "image/png",
        "--local",
    )
    assert put.exit_code == 0, put.output
    assert 'Creating object "dir/a.bin" in bucket "photos".' in put.output
    assert "Upload complete." in put.output
    assert stored(state, "photos", "dir/a.bin") == (data, {"contentType": "image/png"})

    got = r2("object", "get", "photos/dir/a.bin", "--file", "out.bin")
    assert got.exit_code == 0, got.output
    assert (project / "out.bin").read_bytes() == data
    assert 'Downloading "dir/a.bin" from "photos".' in got.output

    to_stdout = r2("object", "get", "photos/dir/a.bin")  # no --file: stdout, as in wrangler
    assert to_stdout.exit_code == 0 and to_stdout.stdout_bytes == data
    assert 'Downloading "dir/a.bin"' in to_stdout.stderr

    piped = r2("object", "get", "photos/dir/a.bin", "--pipe")
    assert piped.stdout_bytes == data and piped.stderr == ""

    deleted = r2("object", "delete", "photos/dir/a.bin")
    assert deleted.exit_code == 0 and "Delete complete." in deleted.output
    assert stored(state, "photos", "dir/a.bin") is None


def test_put_from_stdin_and_persist_to(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    put = r2("object", "put", "b/k", "--pipe", "--persist-to", str(elsewhere), input=b"piped!")
    assert put.exit_code == 0, put.output
    assert stored(elsewhere, "b", "k")[0] == b"piped!"
    assert not (project / ".wranglerpy").exists()


def test_missing_object_and_bad_paths(project: Path) -> None:
    missing = r2("object", "get", "photos/nope", "--pipe")
    assert missing.exit_code == 1
    assert 'The specified key does not exist: "nope" in bucket "photos".' in missing.output
    assert "Traceback" not in missing.output
    for bad in ("photos", "photos/", "/key"):
        result = r2("object", "delete", bad)
        assert result.exit_code == 2 and "must be in the form of {bucket}/{key}" in result.output
    no_file = r2("object", "put", "photos/k", "--file", "missing.bin")
    assert no_file.exit_code == 2 and "Cannot read --file missing.bin" in no_file.output
    neither = r2("object", "put", "photos/k")
    assert neither.exit_code == 2 and "exactly one of --file or --pipe" in neither.output
    remote = r2("object", "delete", "photos/k", "--remote")
    assert remote.exit_code == 2 and "--remote is not supported" in remote.output


def test_traversal_keys_stay_in_the_bucket(project: Path) -> None:
    (project / "in.txt").write_text("x")
    result = r2("object", "put", "photos/../../../../etc/passwd", "--file", "in.txt")
    assert result.exit_code == 0, result.output
    state = project / ".wranglerpy" / "state"
    files = [
        p for p in project.rglob("*") if p.is_file() and p.name not in ("in.txt", "wrangler.toml")
    ]
    assert files and all(p.is_relative_to(state / "r2" / "photos") for p in files)
    got = r2("object", "get", "photos/../../../../etc/passwd", "--pipe")
    assert got.exit_code == 0 and got.stdout_bytes == b"x"


def test_failed_download_leaves_no_file(project: Path) -> None:
    result = r2("object", "get", "photos/missing", "--file", "out.bin")
    assert result.exit_code == 1 and not (project / "out.bin").exists()
    assert list(project.glob(".*wranglerpy-tmp")) == []
