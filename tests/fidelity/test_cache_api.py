"""``caches`` (Cache API) as workerd checks it (src/workerd/api/cache.c++), persisted locally."""

from __future__ import annotations

from pathlib import Path

import pytest

from wranglerpy.runtime.cache_api import CacheStorage
from wranglerpy.runtime.request_response import Request, Response

URL = "https://example.com/page"


async def test_put_match_delete_and_persistence(tmp_path: Path) -> None:
    caches = CacheStorage(tmp_path)
    cache = caches.default
    await cache.put(URL, Response("hi", headers={"cache-control": "max-age=60", "etag": '"1"'}))
    hit = await cache.match(URL)
    assert hit is not None and await hit.text() == "hi"
    assert hit.headers["cf-cache-status"] == "HIT"
    conditional = await cache.match(Request(URL, headers={"if-none-match": '"1"'}))
    assert conditional is not None and conditional.status == 304
    caches.close()
    again = CacheStorage(tmp_path)  # a restart keeps the entry, as wrangler dev's cache does
    assert await (await again.default.match(URL)).text() == "hi"
    assert await again.default.delete(URL) is True
    assert await again.default.match(URL) is None
    again.close()


async def test_not_stored_without_freshness_or_when_private(tmp_path: Path) -> None:
    caches = CacheStorage(tmp_path)
    named = await caches.open("pages")
    await named.put(URL, Response("a"))
    await named.put(URL + "2", Response("b", headers={"cache-control": "private, max-age=60"}))
    await named.put(
        URL + "3", Response("c", headers={"cache-control": "max-age=60", "set-cookie": "s=1"})
    )
    assert [await named.match(u) for u in (URL, URL + "2", URL + "3")] == [None, None, None]
    caches.close()


@pytest.mark.parametrize(
    ("request_", "response", "message"),
    [
        (Request(URL, method="POST"), Response("x"), "Cannot cache response to non-GET request."),
        (URL, Response("x", 206), r"range request \(206 Partial Content\)"),
        (URL, Response("x", headers={"vary": "*"}), "Cannot cache response with 'Vary: \\*'"),
        ("/relative", Response("x"), "Cache API keys must be fully-qualified"),
    ],
)
async def test_put_errors(tmp_path: Path, request_, response, message: str) -> None:
    """cache.c++:48-49, 282-294."""
    caches = CacheStorage(tmp_path)
    with pytest.raises(TypeError, match=message):
        await caches.default.put(request_, response)
    caches.close()


async def test_match_of_non_get_is_none_and_long_names_fail(tmp_path: Path) -> None:
    """cache.c++:86-89 (non-GET matches nothing) and 617-618 (name length)."""
    caches = CacheStorage(tmp_path)
    assert await caches.default.match(Request(URL, method="POST", body="x")) is None
    with pytest.raises(TypeError, match="Cache name is too long."):
        await caches.open("x" * 1024)
    caches.close()
