"""Convert between the worker API's Request/Response and httpx, streaming both ways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.request_response import Request, Response

# Hop-by-hop headers (RFC 9110 §7.6.1) and framing headers httpx recomputes itself.
_DROP_OUTBOUND = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "te",
        "trailer",
        "content-length",
        "host",
    }
)
_DROP_INBOUND = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


async def to_httpx(
    client: httpx.AsyncClient, request: Request, extra: dict[str, str] | None = None
) -> httpx.Request:
    headers = [(k, v) for k, v in request._headers._items if k not in _DROP_OUTBOUND]
    if extra:
        headers.extend(extra.items())
    content: Any = None
    if request.has_body():
        # A buffered body goes out whole (with Content-Length), a stream chunk by chunk.
        content = await request.bytes() if request.is_buffered() else request.body
    return client.build_request(request.method, request.url, headers=headers, content=content)


async def _stream_body(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            if chunk:
                yield chunk
    finally:
        await response.aclose()


def from_httpx(response: httpx.Response, *, method: str = "GET") -> Response:
    """Wrap a streamed httpx response; its body is read lazily, chunk by chunk."""
    headers = Headers(
        [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROP_INBOUND]
    )
    body: Any = None
    if method != "HEAD" and response.status_code not in (204, 304):
        body = _stream_body(response)
    status = response.status_code
    if status < 200 and status != 101:
        status = 200
    return Response(body, status=status, headers=headers, statusText=response.reason_phrase)
