"""Reading the API key of a request: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""

from __future__ import annotations

from typing import Any, Protocol

from inference_api.errors import ApiError
from inference_api.keys import Principal, authenticate, touch_key


class HeaderLookup(Protocol):
    """Anything with a case-insensitive ``get`` (Quart's, the runtime's or a plain dict)."""

    def get(self, key: str, /) -> Any: ...


def key_from_headers(headers: HeaderLookup) -> str | None:
    """The key the client sent, or None when it sent none."""
    authorization = (headers.get("authorization") or "").strip()
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    api_key = (headers.get("x-api-key") or "").strip()
    return api_key or None


async def principal_for(
    headers: HeaderLookup, env: Any, ctx: Any, *, required: bool
) -> Principal | None:
    """The principal behind the request's key.

    No key: 401 when ``required``, else None. A key that is unknown, revoked or expired is
    always 401 (a client that sends a key expects it to count). The key's ``lastUsedAt`` is
    updated after the response, through ``ctx.waitUntil``.
    """
    key = key_from_headers(headers)
    if key is None:
        if required:
            raise ApiError(
                401,
                "Authentication required: send an API key as 'Authorization: Bearer <key>' "
                "or 'X-API-Key: <key>'",
            )
        return None
    principal = await authenticate(env.DB, key)
    if principal is None:
        raise ApiError(401, "Invalid API key: it is unknown, revoked or expired")
    if ctx is not None:
        ctx.waitUntil(touch_key(env.DB, principal.key_id))
    return principal
