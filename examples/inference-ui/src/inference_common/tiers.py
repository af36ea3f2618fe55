"""Account tiers and their monthly limits (None means unlimited).

A deployment may change them with the ``TIER_LIMITS`` var, JSON such as
``{"free": {"events": 5000, "aiRequests": 50}}`` (``null`` for unlimited).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

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
_FIELDS = {"events": "events_per_month", "aiRequests": "ai_requests_per_month"}


class TierLimitsError(ValueError):
    """The TIER_LIMITS var is not the JSON it should be."""


def _limit(value: Any, where: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise TierLimitsError(f"TIER_LIMITS {where} must be a non-negative integer or null")


def _overrides(raw: Any) -> dict[str, dict[str, Any]]:
    data = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(data, dict):
        raise TierLimitsError("TIER_LIMITS must be a JSON object keyed by tier")
    for tier, fields in data.items():
        if tier not in TIERS or not isinstance(fields, dict):
            raise TierLimitsError(f"TIER_LIMITS has an unknown tier or a non-object: {tier!r}")
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise TierLimitsError(
                f"TIER_LIMITS.{tier} has unknown keys {sorted(unknown)} "
                f"(known: {', '.join(_FIELDS)})"
            )
    return data


def limits_for(tier: str, env: Any = None) -> TierLimits:
    """The limits of ``tier`` (an unknown tier, from a hand-edited row, gets the free limits),
    with the env's TIER_LIMITS applied."""
    limits = LIMITS.get(tier, LIMITS["free"])
    raw = getattr(env, "TIER_LIMITS", None) if env is not None else None
    if raw is None:
        return limits
    try:
        fields = _overrides(raw).get(tier, {})
    except ValueError as exc:
        raise TierLimitsError(str(exc)) from None
    changes = {_FIELDS[k]: _limit(v, f"{tier}.{k}") for k, v in fields.items()}
    return replace(limits, **changes)


def exceeds(limit: int | None, used: int, adding: int) -> bool:
    return limit is not None and used + adding > limit
