"""``caches`` (the Cache API) for worker code, persisted locally as wrangler dev's is.

``caches.default`` and ``await caches.open(name)`` give caches with ``put``, ``match`` and
``delete``, with workerd's checks and errors (``src/workerd/api/cache.c++``): only GET
requests, no 206 responses, no ``Vary: *``. What is stored follows the response's caching
headers: ``no-store``/``private``/``Set-Cookie`` responses are not kept, and the time to live
is ``s-maxage``, else ``max-age``, else ``Expires``; a response with none is not kept. Entries
live in SQLite under the persist folder (``cache/<name>.sqlite``).
"""

from __future__ import annotations

import email.utils
import json
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from wranglerpy.runtime import limits
from wranglerpy.runtime.buffers import JsType
from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.request_response import Request, Response

MAX_CACHE_NAME_LENGTH = 1024
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entries (url TEXT PRIMARY KEY, status INTEGER NOT NULL, "
    "headers TEXT NOT NULL, body BLOB NOT NULL, expires REAL NOT NULL)"
)


def _url(request: Any) -> str:
    url = request.url if isinstance(request, Request) else str(request)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TypeError("Invalid URL. Cache API keys must be fully-qualified, valid URLs.")
    return url


def _method(request: Any) -> str:
    return request._method if isinstance(request, Request) else "GET"


def time_to_live(headers: Headers, now: float) -> float | None:
    """Seconds the response may be kept, or None when it must not be stored."""
    control = (headers.get("cache-control") or "").lower()
    directives = {
        m.group(1): m.group(2) for m in re.finditer(r"([a-z-]+)\s*(?:=\s*\"?(\d+)\"?)?", control)
    }
    if "no-store" in directives or "private" in directives:
        return None
    if headers.get("set-cookie") is not None:
        return None
    for name in ("s-maxage", "max-age"):
        if directives.get(name):
            ttl = float(directives[name])
            return ttl if ttl > 0 else None
    expires = headers.get("expires")
    if expires:
        try:
            when = email.utils.parsedate_to_datetime(expires).timestamp()
        except (TypeError, ValueError):
            return None
        return when - now if when > now else None
    return None


class Cache(JsType):
    js_name = "Cache"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self._path, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(_SCHEMA)
        return self._conn

    async def put(self, request: Any, response: Any) -> None:
        url = _url(request)
        limits.count_subrequest()  # a Cache API call is a subrequest
        if _method(request) != "GET":
            raise TypeError("Cannot cache response to non-GET request.")
        if not isinstance(response, Response):
            raise TypeError("Cache.put() needs a Response.")
        if response.type == "error":
            raise TypeError("Cache is unable to store an error response")
        if response.status == 206:
            raise TypeError("Cannot cache response to a range request (206 Partial Content).")
        if "*" in (response._headers.get("vary") or ""):
            raise TypeError("Cannot cache response with 'Vary: *' header.")
        if response.status == 101 or response.webSocket is not None:
            raise TypeError("Cannot cache WebSocket upgrade response.")
        body = await response.bytes()  # the body is used, as on Cloudflare
        now = time.time()
        ttl = time_to_live(response._headers, now)
        if ttl is None:
            return
        headers = json.dumps(response._headers._items)
        with self._lock:
            db = self._db()
            db.execute(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)",
                (url, response.status, headers, body, now + ttl),
            )
            db.commit()

    async def match(self, request: Any, options: Any = None, **kwargs: Any) -> Response | None:
        url = _url(request)
        limits.count_subrequest()  # a Cache API call is a subrequest
        ignore_method = bool(kwargs.get("ignoreMethod") or getattr(options, "ignoreMethod", 0))
        if isinstance(options, dict):
            ignore_method = ignore_method or bool(options.get("ignoreMethod"))
        if not ignore_method and _method(request) != "GET":
            return None
        with self._lock:
            row = (
                self._db()
                .execute("SELECT status, headers, body, expires FROM entries WHERE url = ?", (url,))
                .fetchone()
            )
        if row is None or row[3] <= time.time():
            return None
        status, raw_headers, body, _ = row
        headers = Headers([tuple(pair) for pair in json.loads(raw_headers)])
        headers.set("cf-cache-status", "HIT")
        conditional = (
            request._headers.get("if-none-match") if isinstance(request, Request) else None
        )
        if conditional and conditional == headers.get("etag"):
            return Response(None, 304, headers=headers)
        return Response(bytes(body) or None, status, headers=headers)

    async def delete(self, request: Any, options: Any = None, **kwargs: Any) -> bool:
        url = _url(request)
        limits.count_subrequest()  # a Cache API call is a subrequest
        if _method(request) != "GET" and not kwargs.get("ignoreMethod"):
            return False
        with self._lock:
            db = self._db()
            deleted = db.execute("DELETE FROM entries WHERE url = ?", (url,)).rowcount
            db.commit()
        return deleted > 0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class CacheStorage(JsType):
    """``caches``: ``caches.default`` and ``await caches.open(name)``."""

    js_name = "CacheStorage"

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._caches: dict[str, Cache] = {}

    def _cache(self, name: str) -> Cache:
        if name not in self._caches:
            from wranglerpy.runtime import current

            folder = self._folder or current.persist_dir() / "cache"
            self._caches[name] = Cache(folder / f"{quote(name, safe='')}.sqlite")
        return self._caches[name]

    @property
    def default(self) -> Cache:
        return self._cache(":default")

    async def open(self, name: str) -> Cache:
        if len(name) >= MAX_CACHE_NAME_LENGTH:
            raise TypeError("Cache name is too long.")
        return self._cache(name)

    def close(self) -> None:
        for cache in self._caches.values():
            cache.close()


caches = CacheStorage()
