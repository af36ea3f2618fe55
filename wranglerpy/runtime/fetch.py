"""The global ``fetch`` for worker code: outbound HTTP with the Fetch API's shape."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wranglerpy.runtime import limits
from wranglerpy.runtime.request_response import Response, make_request

if TYPE_CHECKING:
    import httpx

_client: httpx.AsyncClient | None = None


def _shared_client() -> httpx.AsyncClient:
    # httpx is imported on first use: most workers never fetch, and it costs ~8 MB per process.
    import httpx

    global _client
    if _client is None:
        _client = httpx.AsyncClient(
            timeout=httpx.Timeout(None, connect=10.0), follow_redirects=True
        )
    return _client


async def fetch(input: Any, init: Any = None, **options: Any) -> Response:
    """``await fetch(url, method=..., headers=..., body=...)`` → a streamed ``Response``.

    A relative URL is ``TypeError: Fetch API cannot load: /x`` as in workerd's global fetch.
    """
    from wranglerpy.runtime.http_bridge import from_httpx, to_httpx

    options.pop("fetcher", None)
    request = make_request(input, init, base_url=None, **options)
    limits.count_subrequest()  # each fetch is a subrequest ([limits] subrequests)
    if (request._headers.get("upgrade") or "").lower() == "websocket":
        from wranglerpy.runtime.websocket_client import fetch_websocket

        return await fetch_websocket(request)
    client = _shared_client()
    response = await client.send(await to_httpx(client, request), stream=True)
    if response.history:
        try:
            limits.count_subrequest(len(response.history))  # each redirect followed counts
        except BaseException:
            await response.aclose()
            raise
    result = from_httpx(response, method=request._method)
    result.url = str(response.url)
    result.redirected = bool(response.history)
    return result
