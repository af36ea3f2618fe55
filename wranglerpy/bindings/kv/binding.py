"""``env.<KV>``: Cloudflare's KV API (validation, errors, expiry, list order and cursors),
written once over a :class:`~wranglerpy.bindings.kv.store.KVStore` (local SQLite or Redis)."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import AsyncIterable, Callable
from pathlib import Path
from typing import Any

from wranglerpy.bindings.kv import validate as v
from wranglerpy.bindings.kv.store import KVStore, Row, SQLiteKVStore
from wranglerpy.bindings.streams import ByteStream, read_limited
from wranglerpy.jsobject import JSObject, as_js_object, options


def _get_options(op: str, opts: Any, kwargs: dict[str, Any]) -> tuple[str, Any]:
    merged = options({"type": opts} if isinstance(opts, str) else opts, **kwargs)
    v.check_cache_ttl(op, merged.get("cacheTtl"))
    return v.get_type(op, merged.get("type")), merged


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

    ``store`` is where keys live: a :class:`KVStore`, or the path of a local SQLite file.
    ``clock`` returns epoch seconds; tests pass a fake one to age keys without sleeping.
    """

    def __init__(
        self,
        store: Path | KVStore,
        *,
        namespace_id: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.namespace_id = namespace_id
        self._clock = clock
        self._store: KVStore = (
            SQLiteKVStore(store, now=clock()) if isinstance(store, Path) else store
        )

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
        return await self._store.read(encoded, self._clock())

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
        rows = await self._store.read_many(encoded, self._clock())
        return list(zip(names, rows, strict=True))

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
        rows = await self._store.scan(prefix, after, self._clock(), limit + 1)
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
        await self._store.write(encoded, data, expiration, metadata, now)

    async def delete(self, key: Any) -> None:
        """Remove ``key``; deleting a missing key is not an error."""
        encoded = v.check_key("DELETE", key)
        await self._store.delete(encoded)

    def close(self) -> None:
        self._store.close()

    async def aclose(self) -> None:
        """``close()`` that also waits for a server backend's connections to close."""
        aclose = getattr(self._store, "aclose", None)
        if aclose is not None:
            await aclose()
        else:
            self._store.close()


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
