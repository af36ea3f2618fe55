"""Account tiers and their monthly limits (None means unlimited)."""

from __future__ import annotations

from dataclasses import dataclass

TIERS = ("free", "developer", "business", "enterprise")


@dataclass(frozen=True)
class TierLimits:
    events_per_month: int | None
    ai_requests_per_month: int | None


LIMITS: dict[str, TierLimits] = {
    "free": TierLimits(10_000, 100),
    "developer": TierLimits(100_000, 1_000),
    "business": TierLimits(1_000_000, 10_000),
    "enterprise": TierLimits(None, None),
}


def limits_for(tier: str) -> TierLimits:
    """The limits of ``tier``; an unknown tier (a hand-edited row) gets the free limits."""
    return LIMITS.get(tier, LIMITS["free"])


def exceeds(limit: int | None, used: int, adding: int) -> bool:
    return limit is not None and used + adding > limit
