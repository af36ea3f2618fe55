import os
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bindings.conftest import NOW, Clock, chunks
from tests.bindings.processes import assert_intact, kill_mid_write, run_together, spawn
from wranglerpy.bindings import kv
from wranglerpy.bindings.kv import KVError, KVNamespaceBinding, SQLiteKVStore
from wranglerpy.bindings.streams import ByteStream
from wranglerpy.config.schema import KVNamespace
from wranglerpy.errors import BindingError
from wranglerpy.jsobject import JSObject
from wranglerpy.state.backends import parse_kv_url
from wranglerpy.state.redis_kv import RedisKVStore


@pytest.fixture(params=["local", "redis"])
async def ns(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[KVNamespaceBinding]:
    """The binding over each backend: the whole suite runs against local SQLite and Redis."""
    if request.param == "local":
        binding = KVNamespaceBinding(tmp_path / "kv.sqlite", namespace_id="test", clock=clock)
        yield binding
        binding.close()
        return
    server = request.getfixturevalue("redis_server")
    store = RedisKVStore(parse_kv_url(server.url), f"test-{uuid.uuid4().hex}")
    yield KVNamespaceBinding(store, namespace_id="test", clock=clock)
    await store.aclose()


# -- get / put ---------------------------------------------------------------------------


async def test_put_and_get_in_every_type(ns: KVNamespaceBinding) -> None:
    await ns.put("k", '{"a": [1, 2]}')
    assert await ns.get("k") == '{"a": [1, 2]}'
    assert await ns.get("k", "text") == '{"a": [1, 2]}'
    data = await ns.get("k", "json")
    assert isinstance(data, JSObject) and data.a == [1, 2]
    assert await ns.get("k", {"type": "arrayBuffer"}) == b'{"a": [1, 2]}'
    stream = await ns.get("k", type="stream", cacheTtl=60)
    assert isinstance(stream, ByteStream)
    assert await stream.read_all() == b'{"a": [1, 2]}'
    assert await ns.get("missing") is None
    assert await ns.get("missing", "json") is None


async def test_put_accepts_bytes_and_streams_and_overwrites(ns: KVNamespaceBinding) -> None:
    await ns.put("b", b"\x00\xffraw")
    assert await ns.get("b", "arrayBuffer") == b"\x00\xffraw"
    await ns.put("s", chunks(b"hel", b"lo"))
    assert await ns.get("s") == "hello"
    await ns.put("s", ByteStream.from_bytes(b"again"))
    assert await ns.get("s") == "again"
    await ns.put("m", memoryview(b"view"))
    assert await ns.get("m") == "view"


async def test_put_rejects_other_value_types(ns: KVNamespaceBinding) -> None:
    with pytest.raises(KVError, match="accepts only strings, ArrayBuffers"):
        await ns.put("k", 123)


async def test_get_rejects_unknown_type_and_short_cache_ttl(ns: KVNamespaceBinding) -> None:
    with pytest.raises(KVError, match='Unknown response type "blob"'):
        await ns.get("k", "blob")
    with pytest.raises(
        KVError, match="KV GET failed: 400 Invalid cache_ttl of 10. Cache TTL must be at least 30."
    ):
        await ns.get("k", {"cacheTtl": 10})


async def test_get_json_of_a_non_json_value_is_an_error(ns: KVNamespaceBinding) -> None:
    await ns.put("k", "not json")
    with pytest.raises(KVError, match="not valid JSON"):
        await ns.get("k", "json")


async def test_bulk_get_returns_a_dict_in_request_order(ns: KVNamespaceBinding) -> None:
    await ns.put("a", '"x"')
    await ns.put("c", "[1]")
    got = await ns.get(["c", "a", "b"])
    assert isinstance(got, JSObject)
    assert list(got.items()) == [("c", "[1]"), ("a", '"x"'), ("b", None)]
    assert await ns.get(["c", "a"], "json") == {"c": [1], "a": "x"}
    with pytest.raises(KVError, match="maximum of 100 keys"):
        await ns.get([f"k{i}" for i in range(101)])
    assert len(await ns.get([f"k{i}" for i in range(100)])) == 100
    with pytest.raises(KVError, match='"arrayBuffer" is not supported'):
        await ns.get(["a"], "arrayBuffer")


async def test_get_with_metadata(ns: KVNamespaceBinding) -> None:
    await ns.put("k", "v", metadata={"owner": "me", "n": 1})
    await ns.put("plain", "p")
    got = await ns.getWithMetadata("k")
    assert got == {"value": "v", "metadata": {"owner": "me", "n": 1}, "cacheStatus": None}
    assert got.metadata.owner == "me"
    assert (await ns.getWithMetadata("plain")).metadata is None
    assert await ns.getWithMetadata("nope", "json") == {
        "value": None,
        "metadata": None,
        "cacheStatus": None,
    }
    bulk = await ns.getWithMetadata(["k", "nope"])
    assert bulk == {"k": {"value": "v", "metadata": {"owner": "me", "n": 1}}, "nope": None}


async def test_delete(ns: KVNamespaceBinding) -> None:
    await ns.put("k", "v")
    await ns.delete("k")
    assert await ns.get("k") is None
    await ns.delete("k")  # deleting a missing key is fine


# -- limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "Key name cannot be empty."),  # workerd kv.c++ validateKeyName: TypeError
        (".", '"." is not allowed as a key name.'),
        ("..", '".." is not allowed as a key name.'),
        (
            "é" * 256 + "x",
            "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.",
        ),
    ],
)
async def test_bad_keys_fail_with_cloudflares_words(
    ns: KVNamespaceBinding, key: str, message: str
) -> None:
    with pytest.raises(KVError) as info:
        await ns.put(key, "v")
    assert str(info.value) == message
    assert isinstance(info.value, BindingError)


async def test_key_limit_applies_to_every_operation(ns: KVNamespaceBinding) -> None:
    long = "k" * 513
    for call, op in (
        (ns.get(long), "GET"),
        (ns.getWithMetadata(long), "GET"),
        (ns.delete(long), "DELETE"),
    ):
        with pytest.raises(KVError, match=f"KV {op} failed: 414 UTF-8 encoded length of 513"):
            await call
    await ns.put("k" * 512, "fits")
    assert await ns.get("k" * 512) == "fits"
    with pytest.raises(KVError, match="must be a string"):
        await ns.get(42)


async def test_value_size_limit(ns: KVNamespaceBinding) -> None:
    too_big = 25 * 1024 * 1024 + 1
    with pytest.raises(KVError) as info:
        await ns.put("k", b"x" * too_big)
    assert str(info.value) == (
        "KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400."
    )
    with pytest.raises(KVError, match="Value length of 26214401 exceeds"):
        await ns.put("k", chunks(b"x" * (too_big - 1), b"y"))
    assert await ns.get("k") is None


async def test_large_value_round_trips(ns: KVNamespaceBinding) -> None:
    value = os.urandom(3 * 1024 * 1024)  # above the offload threshold: written on a thread
    await ns.put("big", value)
    assert await ns.get("big", "arrayBuffer") == value


async def test_metadata_limit(ns: KVNamespaceBinding) -> None:
    with pytest.raises(
        KVError, match="KV PUT failed: 413 Metadata length of 1032 exceeds limit of 1024"
    ):
        await ns.put("k", "v", metadata={"a": "x" * 1024})
    with pytest.raises(KVError, match="JSON-serialisable"):
        await ns.put("k", "v", metadata={"a": object()})


async def test_expiration_ttl_rules(ns: KVNamespaceBinding) -> None:
    with pytest.raises(KVError) as info:
        await ns.put("k", "v", {"expirationTtl": 30})
    assert str(info.value) == (
        "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60."
    )
    with pytest.raises(KVError, match="Invalid expiration_ttl of 0. Please specify integer"):
        await ns.put("k", "v", expirationTtl=0)
    with pytest.raises(KVError, match="Invalid expiration_ttl of abc"):
        await ns.put("k", "v", expirationTtl="abc")


async def test_expiration_rules(ns: KVNamespaceBinding) -> None:
    with pytest.raises(KVError) as info:
        await ns.put("k", "v", expiration=int(NOW) + 59)
    assert str(info.value) == (
        f"KV PUT failed: 400 Invalid expiration of {int(NOW) + 59}. "
        "Expiration times must be at least 60 seconds in the future."
    )
    with pytest.raises(KVError, match="Invalid expiration of -5. Please specify integer"):
        await ns.put("k", "v", expiration=-5)
    await ns.put("k", "v", expiration=int(NOW) + 60)
    assert (await ns.list()).keys == [{"name": "k", "expiration": int(NOW) + 60}]


async def test_expired_keys_vanish_from_get_and_list(ns: KVNamespaceBinding, clock: Clock) -> None:
    await ns.put("short", "s", expirationTtl=60)
    await ns.put("long", "l", expirationTtl=3600)
    await ns.put("forever", "f")
    clock.now += 59
    assert await ns.get("short") == "s"
    clock.now += 1
    assert await ns.get("short") is None
    assert await ns.get(["short", "long"]) == {"short": None, "long": "l"}
    assert [k.name for k in (await ns.list()).keys] == ["forever", "long"]


async def test_the_local_store_purges_expired_rows(tmp_path: Path, clock: Clock) -> None:
    ns = KVNamespaceBinding(tmp_path / "kv.sqlite", clock=clock)
    await ns.put("short", "s", expirationTtl=60)
    await ns.put("forever", "f")
    clock.now += 3600
    await ns.put("later", "x")  # also purges expired rows
    store = ns._store
    assert isinstance(store, SQLiteKVStore)
    rows = store.sqlite.call(lambda c: c.execute("SELECT count(*) FROM kv").fetchone()[0])
    assert rows == 2
    ns.close()


# -- list --------------------------------------------------------------------------------


async def test_list_is_in_byte_order_with_prefix_and_fields(ns: KVNamespaceBinding) -> None:
    for key in ("b", "a", "é", "Z", "ab", "a\U0001f600", "ac"):
        await ns.put(key, "v")
    await ns.put("am", "v", metadata={"m": True}, expirationTtl=120)
    everything = await ns.list()
    assert [k.name for k in everything.keys] == [
        "Z",
        "a",
        "ab",
        "ac",
        "am",
        "a\U0001f600",
        "b",
        "é",
    ]
    assert everything.list_complete is True
    assert "cursor" not in everything and everything.cacheStatus is None
    by_prefix = await ns.list({"prefix": "a"})
    assert [k.name for k in by_prefix.keys] == ["a", "ab", "ac", "am", "a\U0001f600"]
    assert by_prefix.keys[3] == {
        "name": "am",
        "expiration": int(NOW) + 120,
        "metadata": {"m": True},
    }
    assert by_prefix.keys[0] == {"name": "a"}
    assert (await ns.list(prefix="nothing")).keys == []


async def test_list_pages_with_cursors(ns: KVNamespaceBinding) -> None:
    names = [f"key-{i:04d}" for i in range(2100)]
    for name in names:
        await ns.put(name, "v")
    await ns.put("other", "v")
    seen: list[str] = []
    page = await ns.list(prefix="key-")
    assert len(page.keys) == 1000 and page.list_complete is False
    seen += [k.name for k in page.keys]
    while not page.list_complete:
        page = await ns.list(prefix="key-", cursor=page.cursor)
        seen += [k.name for k in page.keys]
    assert seen == names
    small = await ns.list({"limit": 3})
    assert [k.name for k in small.keys] == names[:3] and small.cursor
    nxt = await ns.list({"limit": 3, "cursor": small.cursor})
    assert [k.name for k in nxt.keys] == names[3:6]


async def test_list_limit_rules(ns: KVNamespaceBinding) -> None:
    with pytest.raises(KVError, match="KV LIST failed: 400 Invalid key_count_limit of 1001"):
        await ns.list(limit=1001)
    with pytest.raises(KVError, match="Invalid key_count_limit of 0"):
        await ns.list(limit=0)
    with pytest.raises(KVError, match="Invalid cursor"):
        await ns.list(cursor=5)
    await ns.list(limit=1000)


# -- sharing, processes, crashes ----------------------------------------------------------


async def test_create_lays_out_state_by_id_and_shares_it(tmp_path: Path) -> None:
    a = kv.create(KVNamespace(binding="A", id="ns-1"), tmp_path)
    b = kv.create(KVNamespace(binding="B", id="ns-1"), tmp_path)
    other = kv.create(KVNamespace(binding="C", id="ns-2"), tmp_path)
    await a.put("k", "from a")
    assert await b.get("k") == "from a"
    assert await other.get("k") is None
    assert (tmp_path / "kv" / "ns-1" / "kv.sqlite").is_file()
    for binding in (a, b, other):
        binding.close()


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from wranglerpy.bindings.kv import KVNamespaceBinding

    async def main(path, tag, count, size):
        ns = KVNamespaceBinding(Path(path))
        wait_for_go(path)
        for i in range(count):
            await ns.put(f"{tag}-{i:05d}", tag * size)
            if i == 20:
                print("started", flush=True)
        print("done", flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    """
)


async def test_two_processes_write_concurrently_and_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    procs = [spawn(WRITER, path, tag, 1500, 10) for tag in ("a", "b")]
    assert all("done" in out for out in run_together(path, procs))
    ns = KVNamespaceBinding(path)
    assert isinstance(ns._store, SQLiteKVStore)
    count = ns._store.sqlite.call(lambda c: c.execute("SELECT count(*) FROM kv").fetchone()[0])
    assert count == 3000
    assert await ns.get("a-01499") == "a" * 10 and await ns.get("b-00000") == "b" * 10
    ns.close()


async def test_kill_9_mid_write_leaves_a_readable_store(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite"
    kill_mid_write(WRITER, path, "x", 100_000, 64 * 1024)
    assert_intact(path)
    ns = KVNamespaceBinding(path)
    names = [k.name for k in (await ns.list()).keys]
    assert len(names) >= 21
    assert names == [f"x-{i:05d}" for i in range(len(names))]  # no gaps: only the last one lost
    for name in names:
        assert await ns.get(name, "arrayBuffer") == b"x" * 64 * 1024
    await ns.put("after", "ok")
    assert await ns.get("after") == "ok"
    ns.close()


async def test_list_result_keys_attribute_is_the_key_list(ns: KVNamespaceBinding) -> None:
    import json

    await ns.put("k", "v")
    result = await ns.list()
    assert result.keys == [{"name": "k"}] and result.keys[0].name == "k"
    assert set(result.keys()) == {"keys", "list_complete", "cacheStatus"}
    assert json.loads(json.dumps(result)) == {
        "keys": [{"name": "k"}],
        "list_complete": True,
        "cacheStatus": None,
    }
