"""The Redis KV store's own duties, against a real redis-server."""

import asyncio
import sys
import time
import uuid

import pytest

from tests.state.servers import Server
from wranglerpy.bindings.kv import KVNamespaceBinding
from wranglerpy.state.backends import parse_kv_url
from wranglerpy.state.redis_kv import RedisKVStore

pytestmark = pytest.mark.cluster


async def test_redis_frees_expired_keys_and_lists_skip_and_unindex_them(
    redis_server: Server,
) -> None:
    """Redis deletes a key at its expiration (EXPIREAT); its index entry is dropped by the
    next list that meets it, so the index does not grow with expired keys."""
    import redis.asyncio as aredis

    store = RedisKVStore(parse_kv_url(redis_server.url), f"exp-{uuid.uuid4().hex[:8]}")
    hour_ago = time.time() - 3600  # the binding's clock is behind: 60 s later is Redis's past
    ns = KVNamespaceBinding(store, clock=lambda: hour_ago)
    await ns.put("a-kept", "v")
    await ns.put("b-gone", "v", expirationTtl=60)
    await ns.put("c-kept", "v")
    client = aredis.Redis(port=parse_kv_url(redis_server.url).port)
    index = f"wranglerpy:kv:{store.namespace_id}:keys"
    assert await client.zcard(index) == 3
    assert await client.exists(f"wranglerpy:kv:{store.namespace_id}:v:b-gone") == 0
    assert [k.name for k in (await ns.list()).keys] == ["a-kept", "c-kept"]
    assert await client.zcard(index) == 2
    page = await ns.list(limit=1)
    assert [k.name for k in page.keys] == ["a-kept"] and not page.list_complete
    rest = await ns.list(limit=1, cursor=page.cursor)
    assert [k.name for k in rest.keys] == ["c-kept"] and rest.list_complete
    await client.aclose()
    await store.aclose()


async def test_namespaces_are_apart_on_one_server(redis_server: Server) -> None:
    url = parse_kv_url(redis_server.url)
    one = KVNamespaceBinding(RedisKVStore(url, "apart-1"))
    two = KVNamespaceBinding(RedisKVStore(url, "apart-1:v:"))  # a hostile-looking id
    await one.put("k", "one")
    await two.put("k", "two")
    await one.put(":keys", "would be the other's index if ids were not encoded")
    assert await one.get("k") == "one" and await two.get("k") == "two"
    assert [k.name for k in (await one.list()).keys] == [":keys", "k"]
    assert [k.name for k in (await two.list()).keys] == ["k"]
    await one.aclose()
    await two.aclose()


WRITER = """
import asyncio, sys
from wranglerpy.bindings.kv import KVNamespaceBinding
from wranglerpy.state.backends import parse_kv_url
from wranglerpy.state.redis_kv import RedisKVStore

async def main(url, namespace, tag):
    store = RedisKVStore(parse_kv_url(url), namespace)
    ns = KVNamespaceBinding(store)
    for i in range(300):
        await ns.put(f"{tag}-{i:04d}", tag)
    await store.aclose()

asyncio.run(main(*sys.argv[1:]))
"""


async def test_two_processes_write_one_namespace_and_lose_nothing(redis_server: Server) -> None:
    namespace = f"race-{uuid.uuid4().hex[:8]}"
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER, redis_server.url, namespace, tag
        )
        for tag in ("a", "b")
    ]
    assert [await p.wait() for p in procs] == [0, 0]
    store = RedisKVStore(parse_kv_url(redis_server.url), namespace)
    ns = KVNamespaceBinding(store)
    names: list[str] = []
    page = await ns.list()
    names += [k.name for k in page.keys]
    while not page.list_complete:
        page = await ns.list(cursor=page.cursor)
        names += [k.name for k in page.keys]
    assert names == sorted(f"{t}-{i:04d}" for t in "ab" for i in range(300))
    await store.aclose()
