"""``ctx.storage``: one SQLite file per object, with workerd's API, limits and wording.

Writes coalesce as on Cloudflare: the first write opens a transaction that commits at the end
of the current event-loop turn, or earlier when something must leave the object (the output
gate: :meth:`ObjectStorage.flush`). Reads are synchronous SQLite calls, so awaiting the object's
own storage never suspends and no other event can interleave (the input gate).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wranglerpy.bindings._sqlite import connect
from wranglerpy.bindings.durable_objects import clone
from wranglerpy.bindings.durable_objects.errors import Error, RangeError
from wranglerpy.bindings.durable_objects.metadata import Metadata

# workerd io/actor-storage.h: key and value limits, and MAX_KEYS of actor-storage.capnp.
MAX_KEY_SIZE = 2048
ADVERTISED_MAX_VALUE_SIZE = 128 * 1024
ENFORCED_MAX_VALUE_SIZE = ADVERTISED_MAX_VALUE_SIZE + 34
MAX_KEYS = 128
# SQLite-backed objects: production allows 2 MB per value (workerd itself does not check).
SQLITE_MAX_VALUE_SIZE = 2 * 1024 * 1024

_SETUP = "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID"
# The id's name, for `wranglerpy durable-objects list` (ids are one-way hashes of names).
_META = "CREATE TABLE IF NOT EXISTS _cf_META (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID"

_NO_SYNC_KV = (
    "The storage.kv (synchronous KV) API is only available for SQLite-backed Durable Objects, "
    "but this object's namespace is not declared to use SQLite. You can use the older, "
    "asyncronous interface via methods of `storage` itself (e.g. `storage.get()`). SQLite can "
    "be enabled on a new Durable Object class by using the `new_sqlite_classes` instead of "
    "`new_classes` under `migrations` in your wrangler.jsonc or wrangler.toml, but an "
    "already-deployed class cannot be converted to SQLite (except by deleting the existing data)."
)
_NO_SQL = (
    "This Durable Object is not backed by SQLite storage, so the SQL API is not available. SQL "
    "can be enabled on a new Durable Object class by using the `new_sqlite_classes` instead of "
    "`new_classes` under `[[migrations]]` in your wrangler.toml, but an already-deployed class "
    "cannot be converted to SQLite (except by deleting the existing data)."
)


def check_key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"Storage keys must be strings, got {type(key).__name__}.")
    if len(key) <= MAX_KEY_SIZE // 4:
        return key  # at most 4 UTF-8 bytes a character: short keys need no encoding
    size = len(key.encode())
    if size > MAX_KEY_SIZE:
        raise RangeError(
            f"Keys cannot be larger than {MAX_KEY_SIZE} bytes. A key of size {size} was provided."
        )
    return key


def _options(options: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    merged = dict(options or {}) if not hasattr(options, "to_py") else dict(options.to_py())
    merged.update(kwargs)
    return merged


def _to_ms(value: Any) -> float:
    if isinstance(value, _dt.datetime):
        return value.timestamp() * 1000
    if hasattr(value, "getTime"):
        return float(value.getTime())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("setAlarm() expects a Date or a number of milliseconds since the epoch.")
    return float(value)


class ObjectStorage:
    """The storage of one object (``ctx.storage``)."""

    def __init__(
        self,
        path: Path,
        *,
        sqlite: bool,
        metadata: Metadata | None = None,
        namespace: str = "",
        object_id: str = "",
        object_name: str | None = None,
        on_set_alarm: Callable[[float], None] | None = None,
        can_set_alarm: Callable[[], bool] | None = None,
    ) -> None:
        self.path = path
        self.is_sqlite = sqlite
        self.conn = connect(path)
        self.conn.execute(_SETUP)
        if object_name is not None:
            self.conn.execute(_META)
            self.conn.execute("INSERT OR IGNORE INTO _cf_META VALUES ('name', ?)", (object_name,))
        self._meta = metadata
        self._namespace = namespace
        self._object_id = object_id
        self._object_name = object_name
        self._on_set_alarm = on_set_alarm
        self._can_set_alarm = can_set_alarm
        self._in_txn = False
        self._savepoints = 0
        self._commit_scheduled = False
        self._max_value = SQLITE_MAX_VALUE_SIZE if sqlite else ENFORCED_MAX_VALUE_SIZE
        self._kv = SyncKV(self)
        self._sql: Any = None
        self.alarm_running = False

    # --- write coalescing and the output gate -----------------------------------------

    def begin_write(self) -> None:
        if not self._in_txn:
            self.conn.execute("BEGIN")
            self._in_txn = True
        if not self._commit_scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop (CLI, plain scripts): the caller's flush() commits
            self._commit_scheduled = True
            loop.call_soon(self._commit_soon)

    def _commit_soon(self) -> None:
        self._commit_scheduled = False
        if self._savepoints == 0:
            self.flush()
        elif self._in_txn:
            self.begin_write()  # a transaction() is still open: try again next turn

    def flush(self) -> None:
        """Make every write so far durable (committed to the WAL) before returning."""
        if self._in_txn and self._savepoints == 0:
            self.conn.execute("COMMIT")
            self._in_txn = False

    def rollback(self) -> None:
        """Drop the writes not yet committed (``ctx.abort``, a broken object)."""
        if self._in_txn:
            self.conn.execute("ROLLBACK")
            self._in_txn = False
            self._savepoints = 0

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.conn.close()

    # --- shared key-value operations (sync; the async API wraps them) -------------------

    def _get_one(self, key: str) -> Any:
        row = self.conn.execute(
            "SELECT value FROM _cf_KV WHERE key = ?", (check_key(key),)
        ).fetchone()
        return None if row is None else clone.decode(row[0])

    def _get_many(self, keys: list[str]) -> dict[str, Any]:
        if len(keys) > MAX_KEYS:
            raise RangeError(
                f"Maximum number of key value pairs is {MAX_KEYS}. {len(keys)} pairs were provided."
            )
        found: dict[str, Any] = {}
        for key in sorted(check_key(k) for k in keys):
            value = self._get_one(key)
            if value is not None:
                found[key] = value
        return found

    def _put_one(self, key: str, value: Any) -> None:
        check_key(key)
        if value is None:
            raise TypeError("put() called with undefined value.")
        data = clone.encode(value)
        if len(data) > self._max_value:
            limit = SQLITE_MAX_VALUE_SIZE if self.is_sqlite else ADVERTISED_MAX_VALUE_SIZE
            raise RangeError(
                f"Values cannot be larger than {limit} bytes. "
                f"A value of size {len(data)} was provided."
            )
        self.begin_write()
        self.conn.execute("INSERT OR REPLACE INTO _cf_KV VALUES (?, ?)", (key, data))

    def _put_many(self, entries: dict[str, Any]) -> None:
        if len(entries) > MAX_KEYS:
            raise RangeError(
                f"Maximum number of key value pairs is {MAX_KEYS}. "
                f"{len(entries)} pairs were provided."
            )
        encoded = []
        for key, value in entries.items():
            check_key(key)
            data = clone.encode(value)
            if len(data) > self._max_value:
                limit = SQLITE_MAX_VALUE_SIZE if self.is_sqlite else ADVERTISED_MAX_VALUE_SIZE
                raise RangeError(
                    f"Values cannot be larger than {limit} bytes. "
                    f"A value of size {len(data)} was provided."
                )
            encoded.append((key, data))
        self.begin_write()
        self.conn.executemany("INSERT OR REPLACE INTO _cf_KV VALUES (?, ?)", encoded)

    def _delete_one(self, key: str) -> bool:
        check_key(key)
        self.begin_write()
        return self.conn.execute("DELETE FROM _cf_KV WHERE key = ?", (key,)).rowcount > 0

    def _delete_many(self, keys: list[str]) -> int:
        if len(keys) > MAX_KEYS:
            raise RangeError(
                f"Maximum number of key value pairs is {MAX_KEYS}. {len(keys)} pairs were provided."
            )
        return sum(self._delete_one(k) for k in keys)

    def _list(self, options: dict[str, Any]) -> dict[str, Any]:
        start = options.get("start")
        start_after = options.get("startAfter")
        end = options.get("end")
        prefix = options.get("prefix")
        reverse = bool(options.get("reverse", False))
        limit = options.get("limit")
        if start is not None and start_after is not None:
            raise TypeError("list() cannot be called with both start and startAfter values.")
        if limit is not None and limit <= 0:
            raise TypeError("List limit must be positive.")
        where, args = [], []
        if start is not None:
            where.append("key >= ?")
            args.append(start)
        if start_after is not None:
            where.append("key > ?")
            args.append(start_after)
        if end is not None:
            where.append("key < ?")
            args.append(end)
        if prefix:
            # Byte-wise range of the prefix (keys compare as UTF-8 bytes, as in workerd).
            where.append("substr(key, 1, ?) = ?")
            args += [len(prefix), prefix]
        sql = "SELECT key, value FROM _cf_KV"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY key" + (" DESC" if reverse else "")
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return {k: clone.decode(v) for k, v in self.conn.execute(sql, args)}

    def _delete_all(self) -> None:
        self.begin_write()
        self.conn.execute("DELETE FROM _cf_KV")
        if self.is_sqlite:
            tables = self.conn.execute(
                "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'"
            ).fetchall()
            for name, kind in tables:
                self.conn.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')
        if self._meta is not None:
            self._meta.delete_alarm(self._namespace, self._object_id)

    # --- the async API (ctx.storage.*) -------------------------------------------------

    async def get(self, keys: Any, options: Any = None, **kwargs: Any) -> Any:
        if isinstance(keys, str):
            return self._get_one(keys)
        return self._get_many(list(keys))

    async def put(
        self, key_or_entries: Any, value: Any = None, options: Any = None, **kw: Any
    ) -> None:
        if isinstance(key_or_entries, str):
            self._put_one(key_or_entries, value)
        elif isinstance(key_or_entries, dict) or hasattr(key_or_entries, "to_py"):
            entries = key_or_entries
            if hasattr(entries, "to_py") and not isinstance(entries, dict):
                entries = entries.to_py()
            self._put_many(dict(entries))
        else:
            raise TypeError(
                "put() may only be called with a single key-value pair and optional options as "
                "put(key, value, options) or with multiple key-value pairs and optional options "
                "as put(entries, options)"
            )

    async def delete(self, keys: Any, options: Any = None, **kwargs: Any) -> Any:
        if isinstance(keys, str):
            return self._delete_one(keys)
        return self._delete_many(list(keys))

    async def deleteAll(self, options: Any = None, **kwargs: Any) -> None:  # noqa: N802
        self._delete_all()

    async def list(self, options: Any = None, **kwargs: Any) -> dict[str, Any]:
        return self._list(_options(options, kwargs))

    async def sync(self) -> None:
        self.flush()

    async def transaction(self, closure: Callable[[Any], Any]) -> Any:
        txn = Transaction(self)
        depth = self._savepoints
        self.begin_write()
        self.conn.execute(f"SAVEPOINT _cf_txn_{depth}")
        self._savepoints += 1
        try:
            result = closure(txn)
            if inspect.isawaitable(result):
                result = await result
        except BaseException:
            self._end_savepoint(depth, rollback=True)
            raise
        self._end_savepoint(depth, rollback=txn.rolled_back)
        return result

    def _end_savepoint(self, depth: int, rollback: bool) -> None:
        if rollback:
            self.conn.execute(f"ROLLBACK TO _cf_txn_{depth}")
        self.conn.execute(f"RELEASE _cf_txn_{depth}")
        self._savepoints -= 1

    def transactionSync(self, callback: Callable[[], Any]) -> Any:  # noqa: N802
        if not self.is_sqlite:
            raise Error("Durable Object is not backed by SQL.")
        depth = self._savepoints
        self.begin_write()
        self.conn.execute(f"SAVEPOINT _cf_sync_savepoint_{depth}")
        self._savepoints += 1
        try:
            result = callback()
        except BaseException:
            self.conn.execute(f"ROLLBACK TO _cf_sync_savepoint_{depth}")
            self.conn.execute(f"RELEASE _cf_sync_savepoint_{depth}")
            self._savepoints -= 1
            raise
        self.conn.execute(f"RELEASE _cf_sync_savepoint_{depth}")
        self._savepoints -= 1
        return result

    # --- alarms ------------------------------------------------------------------------

    async def getAlarm(self, options: Any = None, **kwargs: Any) -> float | None:  # noqa: N802
        if self._meta is None or self.alarm_running:
            return None
        return self._meta.get_alarm(self._namespace, self._object_id)

    async def setAlarm(self, scheduled_time: Any, options: Any = None, **kw: Any) -> None:  # noqa: N802
        when = _to_ms(scheduled_time)
        if when <= 0:
            raise TypeError("setAlarm() cannot be called with an alarm time <= 0")
        if self._can_set_alarm is not None and not self._can_set_alarm():
            raise TypeError(
                "Your Durable Object class must have an alarm() handler in order to call setAlarm()"
            )
        if self._meta is None:
            raise Error("Alarms are not available for this object.")
        self._meta.set_alarm(self._namespace, self._object_id, when, self._object_name)
        self.alarm_running = False
        if self._on_set_alarm is not None:
            self._on_set_alarm(when)

    async def deleteAlarm(self, options: Any = None, **kwargs: Any) -> None:  # noqa: N802
        if self._meta is not None:
            self._meta.delete_alarm(self._namespace, self._object_id)

    # --- SQLite-backed extras ----------------------------------------------------------

    @property
    def kv(self) -> SyncKV:
        if not self.is_sqlite:
            raise Error(_NO_SYNC_KV)
        return self._kv

    @property
    def sql(self) -> Any:
        if not self.is_sqlite:
            raise Error(_NO_SQL)
        if self._sql is None:
            from wranglerpy.bindings.durable_objects.sql import SqlStorage

            self._sql = SqlStorage(self)
        return self._sql

    def size_bytes(self) -> int:
        page_size = self.conn.execute("PRAGMA page_size").fetchone()[0]
        pages = self.conn.execute(
            "SELECT (SELECT * FROM pragma_page_count) - (SELECT * FROM pragma_freelist_count)"
        ).fetchone()[0]
        return int(pages * page_size)


class SyncKV:
    """``ctx.storage.kv``: the synchronous key-value API of SQLite-backed objects."""

    def __init__(self, storage: ObjectStorage) -> None:
        self._s = storage

    def get(self, key: str) -> Any:
        return self._s._get_one(key)

    def put(self, key: str, value: Any) -> None:
        self._s._put_one(key, value)

    def delete(self, key: str) -> bool:
        return self._s._delete_one(key)

    def list(self, options: Any = None, **kwargs: Any) -> Any:
        return iter(self._s._list(_options(options, kwargs)).items())


class Transaction:
    """What a ``storage.transaction(closure)`` closure gets."""

    def __init__(self, storage: ObjectStorage) -> None:
        self._s = storage
        self.rolled_back = False

    def _check(self, op: str) -> None:
        if self.rolled_back:
            raise Error(f"Cannot {op} on rolled back transaction")

    async def get(self, keys: Any, options: Any = None, **kw: Any) -> Any:
        self._check("get")
        return await self._s.get(keys)

    async def put(
        self, key_or_entries: Any, value: Any = None, options: Any = None, **kw: Any
    ) -> None:
        self._check("put")
        await self._s.put(key_or_entries, value)

    async def delete(self, keys: Any, options: Any = None, **kw: Any) -> Any:
        self._check("delete")
        return await self._s.delete(keys)

    async def list(self, options: Any = None, **kwargs: Any) -> dict[str, Any]:
        self._check("list")
        return await self._s.list(options, **kwargs)

    async def deleteAll(self, options: Any = None, **kwargs: Any) -> None:  # noqa: N802
        raise Error("Cannot call deleteAll() within a transaction")

    def rollback(self) -> None:
        self._check("rollback")
        self.rolled_back = True

    async def getAlarm(self, options: Any = None, **kwargs: Any) -> float | None:  # noqa: N802
        return await self._s.getAlarm()

    async def setAlarm(self, scheduled_time: Any, options: Any = None, **kw: Any) -> None:  # noqa: N802
        await self._s.setAlarm(scheduled_time)

    async def deleteAlarm(self, options: Any = None, **kwargs: Any) -> None:  # noqa: N802
        await self._s.deleteAlarm()
