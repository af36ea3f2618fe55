"""The Redis KV store's own duties, against a real redis-server."""

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
