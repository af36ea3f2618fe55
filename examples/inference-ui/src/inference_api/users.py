"""Users: looked up by id or e-mail, created on first use (by scripts/create-api-key)."""

from __future__ import annotations

import re
from typing import Any

from inference_common.clock import new_id, now_ms
from inference_common.tiers import TIERS

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserInputError(ValueError):
    """An e-mail or tier that cannot be used; the message says which and why."""


def check_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise UserInputError(f"not a valid e-mail address: {email!r}")
    return email


def check_tier(tier: str) -> str:
    if tier not in TIERS:
        raise UserInputError(f"unknown tier {tier!r} (choose one of: {', '.join(TIERS)})")
    return tier


async def get_user(db: Any, user_id: str) -> dict[str, Any] | None:
    row = await db.prepare("SELECT * FROM users WHERE id = ?").bind(user_id).first()
    return dict(row) if row else None


async def get_user_by_email(db: Any, email: str) -> dict[str, Any] | None:
    row = await db.prepare("SELECT * FROM users WHERE email = ?").bind(email).first()
    return dict(row) if row else None


async def ensure_user(
    db: Any, email: str, tier: str | None = None, now: int | None = None
) -> tuple[dict[str, Any], bool]:
    """The user with ``email``, created (with ``tier``, default free) if missing.

    Returns ``(user, created)``. Given a ``tier`` for an existing user, the tier is changed.
    """
    email = check_email(email)
    if tier is not None:
        check_tier(tier)
    now = now_ms() if now is None else now
    user = await get_user_by_email(db, email)
    if user is None:
        user_id = new_id()
        await (
            db.prepare(
                "INSERT INTO users (id, email, tier, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
            )
            .bind(user_id, email, tier or "free", now, now)
            .run()
        )
        created = await get_user(db, user_id)
        assert created is not None
        return created, True
    if tier is not None and user["tier"] != tier:
        await (
            db.prepare("UPDATE users SET tier = ?, updated_at = ? WHERE id = ?")
            .bind(tier, now, user["id"])
            .run()
        )
        user = {**user, "tier": tier, "updated_at": now}
    return user, False
