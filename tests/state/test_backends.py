"""Backend URLs: parsing, redaction, selection (flags, env), and the one-line errors."""

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.state.servers import S3_SECRET_KEY, Server, free_port
from wranglerpy.bindings.kv import open_namespace
from wranglerpy.bindings.kv.store import SQLiteKVStore
from wranglerpy.cli.main import app
from wranglerpy.errors import StateError, UsageError
from wranglerpy.logs.redact import redact_url_credentials
from wranglerpy.runtime.spec import WorkerSpec
from wranglerpy.state import KV_ENV, R2_ENV, StateBackends, parse_kv_url, parse_r2_url, redact
from wranglerpy.state.redis_kv import RedisKVStore
from wranglerpy.state.s3_r2 import S3R2Store, key_of, object_name, prefix_name


def test_kv_urls_parse_with_defaults() -> None:
    url = parse_kv_url("redis://10.0.0.5:6380/3")
    assert (url.host, url.port, url.db, url.password, url.tls) == ("10.0.0.5", 6380, 3, None, False)
    url = parse_kv_url("rediss://:p%40ss@cache")
    assert (url.port, url.db, url.password, url.tls) == (6379, 0, "p@ss", True)


def test_r2_urls_parse_with_region_and_bucket_prefix() -> None:
    url = parse_r2_url("s3s://AK:S%2Fk@s3.example:443?region=eu-west-1&bucket_prefix=dev-")
    assert url.endpoint == "https://s3.example:443"
    assert (url.access_key, url.secret_key, url.region, url.bucket_prefix) == (
        "AK",
        "S/k",
        "eu-west-1",
        "dev-",
    )
    assert parse_r2_url("s3://a:b@127.0.0.1:8333").endpoint == "http://127.0.0.1:8333"


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://127.0.0.1:6379", "expected redis://HOST:PORT/DB"),
        ("redis://127.0.0.1:99999/0", "port"),
        ("redis://:6379/0", "no host"),
        ("redis://127.0.0.1:6379/zero", "database must be a number"),
        ("redis://127.0.0.1:6379/0?x=1", "no query"),
    ],
)
def test_bad_kv_urls_name_the_flag(url: str, words: str) -> None:
    with pytest.raises(UsageError, match=words) as info:
        parse_kv_url(url)
    assert info.value.message.startswith("--kv-backend ") and "\n" not in info.value.message


@pytest.mark.parametrize(
    "url, words",
    [
        ("s3://127.0.0.1:8333", "credentials missing"),
        ("s3://a:b@127.0.0.1", "no port"),
        ("s3://a:b@127.0.0.1:8333/bucket", "no path"),
        ("s3://a:b@127.0.0.1:8333?bucket=x", "unknown parameter"),
        ("s3://a:b@127.0.0.1:8333?bucket_prefix=UP", "bucket_prefix"),
        ("https://a:b@127.0.0.1:8333", "expected s3://"),
    ],
)
def test_bad_r2_urls_name_the_flag(url: str, words: str) -> None:
    with pytest.raises(UsageError, match=words) as info:
        parse_r2_url(url)
    message = info.value.message
    assert message.startswith("--r2-backend ") and "\n" not in message
    assert ":b@" not in message  # the secret is redacted even in errors


def test_redaction_hides_passwords_and_keeps_the_rest() -> None:
    assert redact("s3://AK:SECRET@h:1?region=x") == "s3://AK:***@h:1?region=x"
    assert redact("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert redact("redis://h:6379/0") == "redis://h:6379/0"
    assert redact_url_credentials("https://u:tok@example.com/x") == "https://u:***@example.com/x"
    backends = StateBackends(kv="redis://:pw@h:1/0", r2="s3://AK:SECRET@h:2")
    assert "pw" not in backends.describe() and "SECRET" not in backends.describe()
    assert "SECRET" not in repr(parse_r2_url("s3://AK:SECRET@h:2"))
    assert "SECRET" not in repr(backends) and "pw" not in repr(parse_kv_url(backends.kv or ""))


def test_flags_win_over_env_and_travel_in_the_spec(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(KV_ENV, "redis://127.0.0.1:1/0")
    monkeypatch.delenv(R2_ENV, raising=False)
    assert StateBackends.from_env() == StateBackends(kv="redis://127.0.0.1:1/0")
    chosen = StateBackends.resolve(kv="redis://127.0.0.1:2/5", r2="s3://a:b@127.0.0.1:3")
    assert chosen.kv == "redis://127.0.0.1:2/5" and chosen.r2 == "s3://a:b@127.0.0.1:3"
    environ: dict[str, str] = {R2_ENV: "stale"}
    StateBackends(kv="redis://127.0.0.1:2/5").export(environ)
    assert environ == {KV_ENV: "redis://127.0.0.1:2/5"}  # no R2 backend: the variable goes
    from wranglerpy.config.schema import WorkerConfig

    config = WorkerConfig(name="w", config_path=tmp_path / "wrangler.toml", main=None)
    spec = WorkerSpec(config=config, persist_dir=tmp_path, registry_dir=tmp_path)
    assert spec.state.kv == "redis://127.0.0.1:1/0"  # filled from the host's environment
    assert WorkerSpec.decode(spec.encode()).state == spec.state


def test_a_bad_env_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KV_ENV, "memcached://x")
    with pytest.raises(UsageError, match=f"^{KV_ENV} memcached://x: expected redis"):
        StateBackends.from_env()


def test_the_default_is_the_local_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(KV_ENV, raising=False)
    ns = open_namespace("ns-1", tmp_path)
    assert isinstance(ns._store, SQLiteKVStore)
    assert (tmp_path / "kv" / "ns-1" / "kv.sqlite").is_file()
    ns.close()


def test_s3_names_keep_byte_order_and_stay_short_per_segment() -> None:
    keys = [b"a", b"a\x00", b"a-", b"a/b", b"a/b/c", b"a0", b"b", "é".encode(), b"z" * 150]
    keys += [b"z" * 100, b"z" * 100 + b"a", b"z" * 99 + b"\xff"]
    names = [object_name(k) for k in keys]
    assert sorted(names) == [object_name(k) for k in sorted(keys)]
    assert all(key_of(object_name(k)) == k for k in keys)
    assert all(len(part) <= 201 for n in names for part in n.split("/"))
    assert object_name(b"ab/c").startswith(prefix_name(b"ab/"))
    with pytest.raises(StateError, match="longer than 500 bytes cannot be stored on the S3"):
        object_name(b"k" * 501)


def test_an_s3_bucket_name_must_be_valid() -> None:
    with pytest.raises(StateError, match="not a valid S3 bucket name"):
        S3R2Store(parse_r2_url("s3://a:b@127.0.0.1:1"), "Bad_Name")


# -- the CLI: one line naming the flag, nothing started ------------------------------------


def _project(tmp_path: Path) -> Path:
    (tmp_path / "entry.py").write_text(
        "from workers import Response, WorkerEntrypoint\n\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def fetch(self, request):\n"
        "        return Response('ok')\n"
    )
    config = tmp_path / "wrangler.toml"
    config.write_text('name = "w"\nmain = "entry.py"\n')
    return config


@pytest.mark.parametrize(
    "flag, url, words",
    [
        ("--kv-backend", "redis://127.0.0.1:notaport/0", "port is not a number"),
        ("--r2-backend", f"s3://AK:{S3_SECRET_KEY}@127.0.0.1", "no port"),
    ],
)
def test_dev_refuses_a_malformed_backend_url_in_one_line(
    tmp_path: Path, flag: str, url: str, words: str
) -> None:
    config = _project(tmp_path)
    result = CliRunner().invoke(app, ["dev", "-c", str(config), "--no-watch", flag, url])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and words in lines[0], result.output
    assert S3_SECRET_KEY not in result.output


@pytest.mark.parametrize("command", ["dev", "edge"])
def test_an_unreachable_server_is_one_line_naming_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.delenv(KV_ENV, raising=False)
    monkeypatch.delenv(R2_ENV, raising=False)
    closed = free_port()  # nothing listens there
    config = _project(tmp_path)
    args = ["dev", "-c", str(config), "--no-watch"] if command == "dev" else ["edge", "start"]
    args += ["--state-dir", str(tmp_path / "edge")] if command == "edge" else []
    runner = CliRunner()
    kv = runner.invoke(app, [*args, "--kv-backend", f"redis://127.0.0.1:{closed}/0"])
    assert kv.exit_code == 2
    assert kv.output.count("\n") == 1 and "--kv-backend" in kv.output
    assert "cannot reach the Redis server" in kv.output
    secret_url = f"s3://AK:{S3_SECRET_KEY}@127.0.0.1:{closed}"
    r2 = runner.invoke(app, [*args, "--r2-backend", secret_url])
    assert r2.exit_code == 2
    assert r2.output.count("\n") == 1 and "--r2-backend" in r2.output
    assert "cannot reach the S3 server" in r2.output and S3_SECRET_KEY not in r2.output


def test_wrong_s3_credentials_are_one_line(s3_server: Server, tmp_path: Path) -> None:
    config = _project(tmp_path)
    wrong = s3_server.url.replace(S3_SECRET_KEY, "wrong-secret")
    result = CliRunner().invoke(app, ["dev", "-c", str(config), "--r2-backend", wrong])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "the S3 server refused" in result.output
    assert "wrong-secret" not in result.output


async def test_a_server_that_goes_away_is_a_state_error(tmp_path: Path) -> None:
    closed = free_port()
    store = RedisKVStore(parse_kv_url(f"redis://:pw@127.0.0.1:{closed}/0"), "ns")
    with pytest.raises(StateError, match=r"KV GET failed: Redis at redis://:\*\*\*@127") as info:
        await store.read(b"k", 0)
    assert "pw" not in str(info.value)
    await store.aclose()


def test_the_cli_reads_and_writes_the_backends_the_env_names(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    redis_server: Server,
    s3_server: Server,
) -> None:
    """``wranglerpy kv key``/``r2 object`` on another node reach the same data as the
    workers there: they follow WRANGLERPY_KV_BACKEND / WRANGLERPY_R2_BACKEND."""
    monkeypatch.setenv(KV_ENV, redis_server.url)
    monkeypatch.setenv(R2_ENV, s3_server.url)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    ident = f"cli-{uuid.uuid4().hex[:8]}"
    put = runner.invoke(app, ["kv", "key", "put", "k", "v", "--namespace-id", ident])
    assert put.exit_code == 0, put.output
    source = tmp_path / "a.txt"
    source.write_text("object body")
    bucket = f"cli-{uuid.uuid4().hex[:8]}"
    obj = runner.invoke(app, ["r2", "object", "put", f"{bucket}/dir/a.txt", "--file", str(source)])
    assert obj.exit_code == 0, obj.output
    assert not (tmp_path / ".wranglerpy").exists()  # nothing local
    other = tmp_path / "elsewhere"  # another folder: another local persist dir, same servers
    other.mkdir()
    monkeypatch.chdir(other)
    got = runner.invoke(app, ["kv", "key", "get", "k", "--namespace-id", ident])
    assert got.exit_code == 0 and got.output.strip() == "v", got.output
    body = runner.invoke(app, ["r2", "object", "get", f"{bucket}/dir/a.txt", "--pipe"])
    assert body.exit_code == 0 and body.stdout_bytes == b"object body", body.output


def test_the_local_s3_api_points_to_the_backend_instead_of_stale_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --r2-backend, dev's local S3 API would show the local folders the workers no
    longer use: it answers NotImplemented and names the real server (secret redacted)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    from tests.services.conftest import LoopThread, serve
    from wranglerpy.services.s3.auth import DEFAULT_CREDENTIALS
    from wranglerpy.services.spec import ServicesSpec

    monkeypatch.setenv(R2_ENV, f"s3://AK:{S3_SECRET_KEY}@127.0.0.1:9")
    runner = LoopThread()
    try:
        for handle in serve(runner, ServicesSpec(tmp_path, buckets=("b-one",))):
            s3 = boto3.client(
                "s3",
                endpoint_url=handle.s3_url,
                aws_access_key_id=DEFAULT_CREDENTIALS.access_key_id,
                aws_secret_access_key=DEFAULT_CREDENTIALS.secret_access_key,
                region_name="auto",
                config=Config(retries={"max_attempts": 1}),
            )
            with pytest.raises(ClientError) as info:
                s3.list_objects_v2(Bucket="b-one")
            error = info.value.response["Error"]
            assert error["Code"] == "NotImplemented"
            assert "http://127.0.0.1:9" in error["Message"]
            assert S3_SECRET_KEY not in error["Message"]
    finally:
        runner.close()


def test_a_database_the_redis_server_lacks_is_one_line(
    redis_server: Server, tmp_path: Path
) -> None:
    config = _project(tmp_path)
    url = redis_server.url.rsplit("/", 1)[0] + "/99"  # redis-server has 16 databases
    result = CliRunner().invoke(app, ["dev", "-c", str(config), "--kv-backend", url])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1, result.output
    assert "--kv-backend" in result.output and "refused the connection" in result.output


def test_the_dashboard_reads_kv_and_r2_from_the_backends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_server: Server, s3_server: Server
) -> None:
    """The dashboard's KV and R2 browsers show what the workers wrote to Redis and S3."""
    import asyncio

    import httpx

    from tests.services.conftest import LoopThread, serve
    from wranglerpy.bindings.kv import KVNamespaceBinding
    from wranglerpy.bindings.r2 import R2BucketBinding
    from wranglerpy.services.spec import ServicesSpec
    from wranglerpy.state.s3_r2 import S3R2Store

    ident, bucket = f"dash-{uuid.uuid4().hex[:8]}", f"dash-{uuid.uuid4().hex[:8]}"

    async def fill() -> None:
        store = RedisKVStore(parse_kv_url(redis_server.url), ident)
        await KVNamespaceBinding(store).put("from-a-worker", "kv value")
        await store.aclose()
        files = R2BucketBinding(S3R2Store(parse_r2_url(s3_server.url), bucket))
        await files.put("docs/a.txt", "r2 value")
        files.close()

    asyncio.run(fill())
    monkeypatch.setenv(KV_ENV, redis_server.url)
    monkeypatch.setenv(R2_ENV, s3_server.url)
    runner = LoopThread()
    workers = (("api", (("KV", "KV Namespace", ident), ("FILES", "R2 Bucket", bucket))),)
    try:
        spec = ServicesSpec(tmp_path, buckets=(bucket,), workers=workers)
        for handle in serve(runner, spec):
            with httpx.Client(base_url=handle.dashboard_url, timeout=30) as client:
                keys = client.get("api/kv/keys", params={"ns": ident}).json()
                assert [k["name"] for k in keys["keys"]] == ["from-a-worker"], keys
                objects = client.get("api/r2/objects", params={"bucket": bucket}).json()
                assert objects["prefixes"] == ["docs/"], objects
                one = client.get("api/r2/object", params={"bucket": bucket, "key": "docs/a.txt"})
                assert one.status_code == 200 and "r2 value" in one.text
    finally:
        runner.close()
