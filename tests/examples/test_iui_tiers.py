"""Tier limits and their TIER_LIMITS override."""

from __future__ import annotations

import pytest

from inference_common.tiers import LIMITS, TierLimits, TierLimitsError, exceeds, limits_for
from iui_fakes import FakeEnv


def test_contract_limits() -> None:
    assert limits_for("free") == TierLimits(10_000, 100)
    assert limits_for("developer") == TierLimits(100_000, 1_000)
    assert limits_for("business") == TierLimits(1_000_000, 10_000)
    assert limits_for("enterprise") == TierLimits(None, None)
    assert limits_for("platinum") == LIMITS["free"]


def test_override_from_the_env() -> None:
    env = FakeEnv(TIER_LIMITS='{"free": {"events": 5}, "enterprise": {"aiRequests": 9}}')
    assert limits_for("free", env) == TierLimits(5, 100)
    assert limits_for("enterprise", env) == TierLimits(None, 9)
    assert limits_for("developer", env) == LIMITS["developer"]
    assert (
        limits_for("free", FakeEnv(TIER_LIMITS={"free": {"events": None}})).events_per_month is None
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "Expecting value"),
        ("[1]", "JSON object keyed by tier"),
        ('{"gold": {}}', "unknown tier"),
        ('{"free": {"tokens": 1}}', "unknown keys ['tokens']"),
        ('{"free": {"events": -1}}', "free.events must be a non-negative integer"),
    ],
)
def test_bad_overrides_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(TierLimitsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        limits_for("free", FakeEnv(TIER_LIMITS=raw))


def test_exceeds() -> None:
    assert not exceeds(None, 10**9, 1)
    assert not exceeds(3, 2, 1) and exceeds(3, 3, 1)
