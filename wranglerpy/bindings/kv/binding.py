"""The local KV namespace: Cloudflare's KV API over one SQLite file per namespace id."""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
import time
from collections.abc import AsyncIterable, Callable
from pathlib import Path
from typing import Any

from wranglerpy.bindings._sqlite import SQLiteStore
from wranglerpy.bindings.kv import validate as v
from wranglerpy.bindings.streams import ByteStream, read_limited
from wranglerpy.jsobject import JSObject, as_js_object, options

# Values this large are written on a thread so other requests keep flowing meanwhile.
OFFLOAD_BYTES = 1024 * 1024
PURGE_EVERY_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key BLOB PRIMARY KEY,  -- UTF-8 bytes: ORDER BY gives Cloudflare's byte order
    value BLOB NOT NULL,
    expiration INTEGER,    -- epoch seconds, NULL = never
    metadata TEXT          -- JSON, NULL = none
);
CREATE INDEX IF NOT EXISTS kv_expiration ON kv (expiration) WHERE expiration IS NOT NULL;
"""

Row = tuple[bytes, int | None, str | None]  # value, expiration, metadata


def _setup(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


def _get_options(op: str, opts: Any, kwargs: dict[str, Any]) -> tuple[str, Any]:
    merged = options({"type": opts} if isinstance(opts, str) else opts, **kwargs)
    v.check_cache_ttl(op, merged.get("cacheTtl"))
    return v.get_type(op, merged.get("type")), merged


def _prefix_range(prefix: bytes) -> bytes | None:
    """The smallest key above every key starting with ``prefix`` (UTF-8 never has 0xFF)."""
    if not prefix:
        return None
    return prefix[:-1] + bytes([prefix[-1] + 1])


def _encode_cursor(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


def _decode_cursor(cursor: Any) -> bytes:
    if not isinstance(cursor, str):
        raise v.fail("LIST", 400, f"Invalid cursor {cursor!r}.")
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise v.fail("LIST", 400, f"Invalid cursor {cursor!r}.") from None


def _decode(value: bytes, kind: str, key: str) -> Any:
    if kind == "arrayBuffer":
        return bytes(value)
    if kind == "stream":
        return ByteStream.from_bytes(bytes(value))
    text = bytes(value).decode("utf-8", "replace")
    if kind == "json":
        try:
            return as_js_object(json.loads(text))
        except ValueError as exc:
            raise v.KVError(
                f"KV GET failed: the value of {key!r} is not valid JSON ({exc})"
            ) from None
    return text


class _KeyList(list[JSObject]):
    """The ``keys`` of a list result; called, it is its owner's ``dict.keys()``."""

    def __init__(self, items: list[JSObject], owner: JSObject) -> None:
        super().__init__(items)
        self._owner = owner

    def __call__(self) -> Any:
        return dict.keys(self._owner)


class KVListResult(JSObject):
    """``list()``'s result. ``result.keys`` is the key list, as in a Python Worker (a plain
    JSObject would give ``dict.keys`` there); ``result.keys()`` still works as on a dict."""

    __slots__ = ()

    @property
    def keys(self) -> Any:
        return self["keys"]


class KVNamespaceBinding:
    """``env.<KV binding>``: get/getWithMetadata/put/delete/list with Cloudflare's limits.

    ``clock`` returns epoch seconds; tests pass a fake one to age keys without sleeping.
    """

    def __init__(
        self, path: Path, *, namespace_id: str = "", clock: Callable[[], float] = time.time
    ) -> None:
        self.namespace_id = namespace_id
        self._clock = clock
        self._store = SQLiteStore(path, _setup)
        self._last_purge = clock()

    def __repr__(self) -> str:
        return f"KVNamespace({self.namespace_id!r})"

    # -- reads ---------------------------------------------------------------------------

    async def get(self, key: Any, opts: Any = None, **kwargs: Any) -> Any:
        """The value (text by default), None when missing; a list of keys gives a dict."""
        if isinstance(key, (list, tuple)):
            kind, _ = _get_options("GET_BULK", opts, kwargs)
            found = await self._bulk(key, kind)
            return JSObject({k: (None if r is None else _decode(r[0], kind, k)) for k, r in found})
        kind, _ = _get_options("GET", opts, kwargs)
        row = await self._read(key, "GET")
        return None if row is None else _decode(row[0], kind, key)

    async def getWithMetadata(self, key: Any, opts: Any = None, **kwargs: Any) -> JSObject:  # noqa: N802
        """``{value, metadata, cacheStatus}``; a list of keys gives ``{key: {value, metadata}}``."""
        if isinstance(key, (list, tuple)):
            kind, _ = _get_options("GET_BULK", opts, kwargs)
            found = await self._bulk(key, kind)
            return JSObject(
                {
                    k: None
                    if r is None
                    else JSObject(value=_decode(r[0], kind, k), metadata=_metadata(r[2]))
                    for k, r in found
                }
            )
        kind, _ = _get_options("GET", opts, kwargs)
        row = await self._read(key, "GET")
        if row is None:
            return JSObject(value=None, metadata=None, cacheStatus=None)
        return JSObject(
            value=_decode(row[0], kind, key), metadata=_metadata(row[2]), cacheStatus=None
        )

    async def _read(self, key: Any, op: str) -> Row | None:
        encoded = v.check_key(op, key)
        now = self._clock()

        def read(conn: sqlite3.Connection) -> Row | None:
            row: Row | None = conn.execute(
                "SELECT value, expiration, metadata FROM kv WHERE key = ?", (encoded,)
            ).fetchone()
            return None if row is None or _expired(row[1], now) else row

        return await self._store.run(read)

    async def _bulk(self, keys: Any, kind: str) -> list[tuple[str, Row | None]]:
        if kind not in ("text", "json"):
            raise v.KVError(
                f'KV GET_BULK failed: type "{kind}" is not supported for a list of keys; '
                'use "text" or "json".'
            )
        if len(keys) > v.MAX_BULK_KEYS:
            raise v.fail("GET_BULK", 400, f"You can request a maximum of {v.MAX_BULK_KEYS} keys.")
        names = list(keys)
        encoded = [v.check_key("GET_BULK", k) for k in names]
        now = self._clock()

        def read(conn: sqlite3.Connection) -> list[tuple[str, Row | None]]:
            marks = ",".join("?" * len(encoded))
            rows = {
                r[0]: (r[1], r[2], r[3])
                for r in conn.execute(
                    f"SELECT key, value, expiration, metadata FROM kv WHERE key IN ({marks})",
                    encoded,
                )
            }
            out: list[tuple[str, Row | None]] = []
            for name, raw in zip(names, encoded, strict=True):
                row = rows.get(raw)
                out.append((name, None if row is None or _expired(row[1], now) else row))
            return out

        return await self._store.run(read) if encoded else []

    async def list(self, opts: Any = None, **kwargs: Any) -> KVListResult:
        """``{keys: [{name, expiration?, metadata?}], list_complete, cursor?, cacheStatus}``.

        Keys come in UTF-8 byte order; ``cursor`` is present only while ``list_complete`` is
        false, as on Cloudflare.
        """
        merged = options(opts, **kwargs)
        limit = v.list_limit(merged.get("limit"))
        prefix_raw = merged.get("prefix") or ""
        if not isinstance(prefix_raw, str):
            raise v.KVError(f"KV LIST failed: prefix must be a string, got {prefix_raw!r}")
        prefix = prefix_raw.encode("utf-8", "surrogatepass")
        after = _decode_cursor(merged["cursor"]) if merged.get("cursor") else None
        upper = _prefix_range(prefix)
        now = int(self._clock())

        def read(conn: sqlite3.Connection) -> list[tuple[bytes, int | None, str | None]]:
            where = ["key >= ?", "(expiration IS NULL OR expiration > ?)"]
            args: list[Any] = [prefix, now]
            if upper is not None:
                where.append("key < ?")
                args.append(upper)
            if after is not None:
                where.append("key > ?")
                args.append(after)
            sql = (
                f"SELECT key, expiration, metadata FROM kv WHERE {' AND '.join(where)} "
                "ORDER BY key LIMIT ?"
            )
            return conn.execute(sql, (*args, limit + 1)).fetchall()

        rows = await self._store.run(read)
        complete = len(rows) <= limit
        rows = rows[:limit]
        keys = []
        for raw, expiration, metadata in rows:
            entry = JSObject(name=bytes(raw).decode("utf-8", "surrogatepass"))
            if expiration is not None:
                entry["expiration"] = expiration
            if metadata is not None:
                entry["metadata"] = _metadata(metadata)
            keys.append(entry)
        result = KVListResult(list_complete=complete, cacheStatus=None)
        result["keys"] = _KeyList(keys, result)
        if not complete:
            result["cursor"] = _encode_cursor(bytes(rows[-1][0]))
        return result

    # -- writes --------------------------------------------------------------------------

    async def put(self, key: Any, value: Any, opts: Any = None, **kwargs: Any) -> None:
        """Store ``value`` (str, bytes or an async iterable of bytes) under ``key``."""
        encoded = v.check_key("PUT", key)
        merged = options(opts, **kwargs)
        now = self._clock()
        expiration = v.expiration_from(merged, now)
        metadata = v.encode_metadata(merged.get("metadata"))
        data = await _value_bytes(value)
        row = (encoded, data, expiration, metadata)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO kv (key, value, expiration, metadata) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "expiration = excluded.expiration, metadata = excluded.metadata",
                row,
            )

        await self._store.run(write, offload=len(data) >= OFFLOAD_BYTES)
        await self._maybe_purge(now)

    async def delete(self, key: Any) -> None:
        """Remove ``key``; deleting a missing key is not an error."""
        encoded = v.check_key("DELETE", key)
        await self._store.run(lambda c: c.execute("DELETE FROM kv WHERE key = ?", (encoded,)))

    async def _maybe_purge(self, now: float) -> None:
        # Expired rows are already invisible; this only gives their space back, now and then.
        if now - self._last_purge < PURGE_EVERY_S:
            return
        self._last_purge = now
        await self._store.run(
            lambda c: c.execute(
                "DELETE FROM kv WHERE expiration IS NOT NULL AND expiration <= ?", (int(now),)
            )
        )

    def close(self) -> None:
        self._store.close()


def _expired(expiration: int | None, now: float) -> bool:
    return expiration is not None and expiration <= now


def _metadata(text: str | None) -> Any:
    return None if text is None else as_js_object(json.loads(text))


async def _value_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    elif isinstance(value, AsyncIterable):
        read, length = await read_limited(value, v.MAX_VALUE_SIZE)
        v.check_value_size(length)
        assert read is not None
        return read
    else:
        raise v.KVError(
            "KV PUT failed: KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, "
            f"and ReadableStreams as values (got {type(value).__name__})."
        )
    v.check_value_size(len(data))
    return data
