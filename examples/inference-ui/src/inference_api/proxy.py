"""``/stream/*``: forward to inference-ui-streaming through the STREAMING service binding.

The request body (a small JSON prompt) is read whole and sent as bytes: on Cloudflare a
Python async iterator is no request body (Pyodide hands it to ``fetch`` as a Python object,
which is stringified or, from 2026-02-19, yields no bytes). The SSE answer comes back chunk by
chunk; when the client goes away, closing our generator closes the upstream response, which
stops the streaming worker's generation.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from inference_api.keys import Principal

USER_HEADER = "x-inference-user-id"
# Not forwarded: hop-by-hop and framing headers, the client's credentials (the streaming
# worker trusts the API worker, not the key) and any client attempt at the internal header.
_DROP_REQUEST = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "content-length",
        "authorization",
        "x-api-key",
        "remote-addr",
        USER_HEADER,
    }
)
_DROP_RESPONSE = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


STREAM_ACCEPT = "text/event-stream, application/json"


def is_stream_worker_answer(content_type: str | None) -> bool:
    """The streaming worker answers only SSE or JSON; anything else came from the runtime."""
    return (content_type or "").startswith(("text/event-stream", "application/json"))


def target_url(url: str, stream_path: str) -> str:
    """The request's URL with its path replaced by ``/<stream_path>`` (query kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + stream_path.lstrip("/"), parts.query, ""))


def forward_headers(
    headers: Iterable[tuple[str, str]], principal: Principal | None
) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if lower not in _DROP_REQUEST:
            out[lower] = value
    # Ask for JSON or SSE only: a failing worker's error page then never carries HTML.
    out["accept"] = STREAM_ACCEPT
    if principal is not None:
        out[USER_HEADER] = principal.user_id
    return out


def response_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in _DROP_RESPONSE]


MID_STREAM_FAILURE = (
    b'data: {"type":"error","error":{"message":"The streaming service failed mid-stream"}}\n\n'
)


async def relay(body: AsyncIterator[bytes] | None, *, sse: bool = False) -> AsyncIterator[bytes]:
    """Yield the upstream body as it arrives; always close it (also on client disconnect).

    If the upstream breaks off an SSE answer, the client still gets the protocol's error event.
    """
    if body is None:
        return
    try:
        async for chunk in body:
            # A JS ReadableStream yields Uint8Arrays: to_bytes() gives the Python bytes.
            yield chunk.to_bytes() if hasattr(chunk, "to_bytes") else chunk
    except Exception as exc:  # noqa: BLE001 - a broken upstream, reported in-band
        print(f"stream relay failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if not sse:
            raise
        yield MID_STREAM_FAILURE
    finally:
        aclose = getattr(body, "aclose", None)
        if aclose is not None:
            await aclose()


async def forward(
    streaming: Any,
    url: str,
    method: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | None,
    principal: Principal | None,
) -> Any:
    """Call the streaming worker; returns its (streamed) workers Response."""
    return await streaming.fetch(
        url,
        method=method,
        headers=forward_headers(headers, principal),
        body=body if method not in ("GET", "HEAD") else None,
    )
