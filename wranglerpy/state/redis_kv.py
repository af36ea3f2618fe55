"""KV namespaces in Redis, so workers on every node see the same keys.

Layout, per namespace id ``N`` (all names under ``wranglerpy:kv:N:``, ``N`` percent-encoded):

* ``…:v:<key>``: a hash with the value (``v``), expiration (``e``, epoch seconds) and
  metadata (``m``, JSON). Redis expires it at its expiration (``EXPIREAT``), which only gives
  the space back: visibility follows the binding's clock, as with the local store.
* ``…:keys``: a sorted set of every key with score 0, so ``ZRANGEBYLEX`` walks keys in byte
  order (memcmp, the order Cloudflare lists in) from a cursor. Members whose hash has
  expired are skipped and dropped as a list meets them.

A write is one ``MULTI``/``EXEC`` (hash and index together), so concurrent writers on any
node never leave an index entry without its value for long, nor a value unlisted.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis
import redis.asyncio as aredis
from redis.exceptions import RedisError

from wranglerpy.bindings.kv.store import ListRow, Row, prefix_upper
from wranglerpy.errors import StateError
from wranglerpy.state.backends import RedisURL, quote_id, redact

# Batches a list reads past expired members before it gives up on filling a page in one go.
_SCAN_ROUNDS = 50


def _client(url: RedisURL, *, timeout: float | None = None) -> aredis.Redis:
    return aredis.Redis(
        host=url.host,
        port=url.port,
        db=url.db,
        password=url.password,
        ssl=url.tls,
        socket_connect_timeout=timeout or 10.0,
    )


def ping(url: RedisURL, timeout: float = 5.0) -> str | None:
    """None when the server answers; else why not, in one line."""
    client = redis.Redis(
        host=url.host,
        port=url.port,
        db=url.db,
        password=url.password,
        ssl=url.tls,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        return f"cannot reach the Redis server ({exc})"
    except RedisError as exc:  # a wrong password, a database number the server lacks
        return f"the Redis server refused the connection ({exc})"
    finally:
        client.close()
    return None


def _live(expiration: bytes | None, now: float) -> bool:
    return expiration is None or int(expiration) > now


class RedisKVStore:
    """One KV namespace in Redis (see the module docstring for the layout)."""

    def __init__(self, url: RedisURL, namespace_id: str) -> None:
        self.url = url
        self.namespace_id = namespace_id
        # Percent-encoded, the id holds no ':', so no id's names can reach another's.
        self._prefix = f"wranglerpy:kv:{quote_id(namespace_id)}:".encode()
        self._index = self._prefix + b"keys"
        # One client per event loop: an asyncio connection belongs to the loop that made it.
        self._clients: dict[int, aredis.Redis] = {}

    def __repr__(self) -> str:
        return f"RedisKVStore({redact(self.url.url)!r}, {self.namespace_id!r})"

    def _redis(self) -> aredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(id(loop))
        if client is None:
            client = self._clients[id(loop)] = _client(self.url)
        return client

    def _hash(self, key: bytes) -> bytes:
        return self._prefix + b"v:" + key

    def _fail(self, op: str, exc: Exception) -> StateError:
        return StateError(f"KV {op} failed: Redis at {redact(self.url.url)}: {exc}")

    async def read(self, key: bytes, now: float) -> Row | None:
        try:
            value, expiration, metadata = await self._redis().hmget(
                self._hash(key), ["v", "e", "m"]
            )
        except RedisError as exc:
            raise self._fail("GET", exc) from None
        return _row(value, expiration, metadata, now)

    async def read_many(self, keys: list[bytes], now: float) -> list[Row | None]:
        if not keys:
            return []
        try:
            async with self._redis().pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hmget(self._hash(key), ["v", "e", "m"])
                found = await pipe.execute()
        except RedisError as exc:
            raise self._fail("GET_BULK", exc) from None
        return [_row(v, e, m, now) for v, e, m in found]

    async def write(
        self, key: bytes, value: bytes, expiration: int | None, metadata: str | None, now: float
    ) -> None:
        fields: dict[Any, Any] = {"v": value}
        if expiration is not None:
            fields["e"] = str(expiration)
        if metadata is not None:
            fields["m"] = metadata
        name = self._hash(key)
        try:
            async with self._redis().pipeline(transaction=True) as pipe:
                pipe.delete(name)
                pipe.hset(name, mapping=fields)
                if expiration is not None:
                    pipe.expireat(name, expiration)
                pipe.zadd(self._index, {key: 0})
                await pipe.execute()
        except RedisError as exc:
            raise self._fail("PUT", exc) from None

    async def delete(self, key: bytes) -> None:
        try:
            async with self._redis().pipeline(transaction=True) as pipe:
                pipe.delete(self._hash(key))
                pipe.zrem(self._index, key)
                await pipe.execute()
        except RedisError as exc:
            raise self._fail("DELETE", exc) from None

    async def scan(
        self, prefix: bytes, after: bytes | None, now: float, limit: int
    ) -> list[ListRow]:
        upper = prefix_upper(prefix)
        high = b"(" + upper if upper is not None else b"+"
        low = b"[" + prefix if prefix else b"-"
        if after is not None and after >= prefix:
            low = b"(" + after
        out: list[ListRow] = []
        try:
            client = self._redis()
            for _ in range(_SCAN_ROUNDS):
                want = limit - len(out)
                # One round trip per batch: the range, each key's fields, the index cleaned.
                found, seen, last = await client.eval(
                    _SCAN, 1, self._index, self._prefix + b"v:", low, high, want
                )
                for member, expiration, metadata in found:
                    if _live(expiration, now):
                        exp = None if expiration is None else int(expiration)
                        text = None if metadata is None else metadata.decode()
                        out.append((member, exp, text))
                if seen < want or len(out) >= limit:
                    break
                low = b"(" + last
        except RedisError as exc:
            raise self._fail("LIST", exc) from None
        return out[:limit]

    def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        for client in clients:
            task = loop.create_task(client.aclose())
            _closing.add(task)
            task.add_done_callback(_closing.discard)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


_closing: set[asyncio.Task[None]] = set()

# KEYS[1]: the index; ARGV: hash prefix, low, high, count. Returns the live members with
# their expiration and metadata (expired-by-Redis ones are dropped from the index), how many
# the range gave, and the last of them (where the next batch starts).
_SCAN = """
local members = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, member in ipairs(members) do
  local name = ARGV[1] .. member
  if redis.call('EXISTS', name) == 0 then
    redis.call('ZREM', KEYS[1], member)
  else
    local fields = redis.call('HMGET', name, 'e', 'm')
    out[#out + 1] = {member, fields[1], fields[2]}
  end
end
return {out, #members, members[#members] or ''}
"""


def _row(value: Any, expiration: Any, metadata: Any, now: float) -> Row | None:
    if value is None or not _live(expiration, now):
        return None
    exp = None if expiration is None else int(expiration)
    return (value, exp, None if metadata is None else metadata.decode())
