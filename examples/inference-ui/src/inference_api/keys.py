"""API keys: ``iui_`` + a random token, shown once, stored only as a SHA-256 hex digest.

The key's first characters (``key_prefix``) name it in listings and for revocation, so the
full key never has to be shown again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from inference_common.clock import new_id, now_ms

KEY_SCHEME = "iui_"
PREFIX_LENGTH = len(KEY_SCHEME) + 8
DAY_MS = 24 * 60 * 60 * 1000
MAX_EXPIRY_DAYS = 3650
MAX_NAME_LENGTH = 100
# Active (unrevoked) keys one user may hold: a bound on what one request can create.
MAX_ACTIVE_KEYS = 50


class KeyInputError(ValueError):
    """A key name or expiry that cannot be used."""


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: the owner of a valid API key."""

    user_id: str
    email: str
    tier: str
    user_created_at: int
    key_id: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> tuple[str, str, str]:
    """A new ``(key, key_prefix, key_hash)``."""
    key = KEY_SCHEME + secrets.token_urlsafe(32)
    return key, key[:PREFIX_LENGTH], hash_key(key)


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise KeyInputError("name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise KeyInputError(f"name is longer than {MAX_NAME_LENGTH} characters")
    return name


def check_expiry_days(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= MAX_EXPIRY_DAYS:
        raise KeyInputError(f"expiresInDays must be between 1 and {MAX_EXPIRY_DAYS}, got {days}")
    return days


async def create_key(
    db: Any, user_id: str, name: str, expires_in_days: int | None = None, now: int | None = None
) -> dict[str, Any]:
    """Store a new key for ``user_id``; the result holds the full key (the only time it exists)."""
    name = check_name(name)
    check_expiry_days(expires_in_days)
    now = now_ms() if now is None else now
    expires_at = now + expires_in_days * DAY_MS if expires_in_days is not None else None
    key, prefix, digest = generate_key()
    # One statement checks the cap and inserts, so concurrent requests cannot overshoot it.
    result = await (
        db.prepare(
            "INSERT INTO api_keys (id, user_id, key_hash, key_prefix, name, expires_at, created_at) "
            "SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM api_keys "
            "WHERE user_id = ? AND revoked_at IS NULL) < ?"
        )
        .bind(new_id(), user_id, digest, prefix, name, expires_at, now, user_id, MAX_ACTIVE_KEYS)
        .run()
    )
    if int(result["meta"]["changes"]) == 0:
        raise KeyInputError(
            f"you already have {MAX_ACTIVE_KEYS} active keys: revoke one before creating another"
        )
    return {
        "apiKey": key,
        "keyPrefix": prefix,
        "name": name,
        "createdAt": now,
        "expiresAt": expires_at,
    }


async def list_keys(db: Any, user_id: str) -> list[dict[str, Any]]:
    result = await (
        db.prepare(
            "SELECT id, key_prefix, name, last_used_at, expires_at, revoked_at, created_at "
            "FROM api_keys WHERE user_id = ? ORDER BY created_at DESC, key_prefix"
        )
        .bind(user_id)
        .all()
    )
    return [
        {
            "id": r["id"],
            "keyPrefix": r["key_prefix"],
            "name": r["name"],
            "lastUsedAt": r["last_used_at"],
            "expiresAt": r["expires_at"],
            "revokedAt": r["revoked_at"],
            "createdAt": r["created_at"],
        }
        for r in result["results"]
    ]


async def revoke_key(db: Any, user_id: str, key_prefix: str, now: int | None = None) -> bool:
    """Revoke the caller's key with this prefix; False when they have no such active key."""
    now = now_ms() if now is None else now
    result = await (
        db.prepare(
            "UPDATE api_keys SET revoked_at = ? "
            "WHERE user_id = ? AND key_prefix = ? AND revoked_at IS NULL"
        )
        .bind(now, user_id, key_prefix)
        .run()
    )
    return int(result["meta"]["changes"]) > 0


async def authenticate(db: Any, key: str, now: int | None = None) -> Principal | None:
    """The principal for ``key`` if it exists, is not revoked and has not expired."""
    if not key.startswith(KEY_SCHEME):
        return None
    now = now_ms() if now is None else now
    row = await (
        db.prepare(
            "SELECT k.id AS key_id, k.expires_at, k.revoked_at, u.id AS user_id, u.email, u.tier, "
            "u.created_at FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?"
        )
        .bind(hash_key(key))
        .first()
    )
    if row is None or row["revoked_at"] is not None:
        return None
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return None
    return Principal(
        user_id=row["user_id"],
        email=row["email"],
        tier=row["tier"],
        user_created_at=row["created_at"],
        key_id=row["key_id"],
    )


async def touch_key(db: Any, key_id: str, now: int | None = None) -> None:
    """Record that a key was just used (run after the response, through ctx.waitUntil)."""
    now = now_ms() if now is None else now
    await db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").bind(now, key_id).run()
