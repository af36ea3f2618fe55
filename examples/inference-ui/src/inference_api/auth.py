"""Reading the API key of a request: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""

from __future__ import annotations

from typing import Any, Protocol

from inference_api.errors import ApiError
from inference_api.keys import Principal, authenticate, touch_key
from inference_common.clock import now_ms

# Failed key attempts one client address may make per window before it must wait.
MAX_FAILURES = 10
WINDOW_MS = 60_000


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
    client = client_address(headers)
    now = now_ms()
    await _refuse_if_blocked(env.DB, client, now)
    principal = await authenticate(env.DB, key)
    if principal is None:
        await _record_failure(env.DB, client, now)
        raise ApiError(401, "Invalid API key: it is unknown, revoked or expired")
    if ctx is not None:
        ctx.waitUntil(touch_key(env.DB, principal.key_id))
    return principal


def client_address(headers: HeaderLookup) -> str:
    """Who is guessing: the client address Cloudflare's edge puts in CF-Connecting-IP."""
    return (headers.get("cf-connecting-ip") or "").strip() or "unknown"


def _window(now: int) -> int:
    return now - now % WINDOW_MS


async def _refuse_if_blocked(db: Any, client: str, now: int) -> None:
    """429 with Retry-After once ``client`` has failed MAX_FAILURES times in this window."""
    window = _window(now)
    failures = await (
        db.prepare("SELECT count FROM auth_failures WHERE client = ? AND window_start = ?")
        .bind(client, window)
        .first("count")
    )
    if failures is not None and int(failures) >= MAX_FAILURES:
        retry_after = max(1, -(-(window + WINDOW_MS - now) // 1000))
        raise ApiError(
            429,
            "Too many invalid API keys from this address: try again later",
            headers={"Retry-After": str(retry_after)},
            retryAfter=retry_after,
        )


async def _record_failure(db: Any, client: str, now: int) -> None:
    window = _window(now)
    await db.batch(
        [
            db.prepare(
                "INSERT INTO auth_failures (client, window_start, count) VALUES (?, ?, 1) "
                "ON CONFLICT (client, window_start) DO UPDATE SET count = count + 1"
            ).bind(client, window),
            # Old windows are of no use: keep the table small.
            db.prepare("DELETE FROM auth_failures WHERE window_start < ?").bind(window),
        ]
    )
