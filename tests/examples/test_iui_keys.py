"""API keys: generation, hashing, expiry, revocation, and the request-level auth."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from inference_api import keys, users
from inference_api.auth import key_from_headers, principal_for
from inference_api.errors import ApiError
from iui_fakes import FakeCtx, FakeEnv, run


async def _user_with_key(
    env: FakeEnv, email: str = "a@example.com", **kw: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    user, _ = await users.ensure_user(env.DB, email)
    created = await keys.create_key(env.DB, user["id"], "default", **kw)
    return user, created


def test_generated_key_shape_and_hash() -> None:
    key, prefix, digest = keys.generate_key()
    assert key.startswith("iui_") and len(key) > 40
    assert prefix == key[: keys.PREFIX_LENGTH]
    assert digest == hashlib.sha256(key.encode()).hexdigest()
    assert keys.generate_key()[0] != key


def test_only_the_hash_is_stored(env: FakeEnv) -> None:
    async def go() -> None:
        _, created = await _user_with_key(env)
        rows = env.DB.rows("SELECT * FROM api_keys")
        assert len(rows) == 1
        assert created["apiKey"] not in str(rows[0].values())
        assert rows[0]["key_hash"] == keys.hash_key(created["apiKey"])
        assert rows[0]["key_prefix"] == created["keyPrefix"]

    run(go())


def test_authenticate_valid_unknown_revoked_expired(env: FakeEnv) -> None:
    async def go() -> None:
        user, created = await _user_with_key(env, expires_in_days=1, now=1_000)
        principal = await keys.authenticate(env.DB, created["apiKey"], now=2_000)
        assert principal is not None and principal.user_id == user["id"]
        assert principal.email == "a@example.com" and principal.tier == "free"
        assert await keys.authenticate(env.DB, created["apiKey"] + "x", now=2_000) is None
        assert await keys.authenticate(env.DB, "not-a-key", now=2_000) is None
        expiry = 1_000 + keys.DAY_MS
        assert await keys.authenticate(env.DB, created["apiKey"], now=expiry) is None
        assert await keys.authenticate(env.DB, created["apiKey"], now=expiry - 1) is not None
        assert await keys.revoke_key(env.DB, user["id"], created["keyPrefix"])
        assert await keys.authenticate(env.DB, created["apiKey"], now=2_000) is None
        assert not await keys.revoke_key(env.DB, user["id"], created["keyPrefix"])

    run(go())


def test_revoke_is_scoped_to_the_owner(env: FakeEnv) -> None:
    async def go() -> None:
        _, a_key = await _user_with_key(env, "a@example.com")
        b, _ = await _user_with_key(env, "b@example.com")
        assert not await keys.revoke_key(env.DB, b["id"], a_key["keyPrefix"])
        assert await keys.authenticate(env.DB, a_key["apiKey"]) is not None

    run(go())


@pytest.mark.parametrize("days", [0, -1, keys.MAX_EXPIRY_DAYS + 1])
def test_bad_expiry_is_refused(env: FakeEnv, days: int) -> None:
    with pytest.raises(keys.KeyInputError, match="expiresInDays"):
        run(_user_with_key(env, expires_in_days=days))


def test_bad_name_is_refused(env: FakeEnv) -> None:
    async def go() -> None:
        user, _ = await users.ensure_user(env.DB, "a@example.com")
        with pytest.raises(keys.KeyInputError, match="empty"):
            await keys.create_key(env.DB, user["id"], "   ")

    run(go())


def test_key_from_headers() -> None:
    assert key_from_headers({"authorization": "Bearer iui_abc"}) == "iui_abc"
    assert key_from_headers({"authorization": "bearer  iui_abc "}) == "iui_abc"
    assert key_from_headers({"x-api-key": "iui_x"}) == "iui_x"
    assert key_from_headers({"authorization": "Basic Zm9v"}) is None
    assert key_from_headers({}) is None


def test_principal_for_updates_last_used_after_the_response(env: FakeEnv) -> None:
    async def go() -> None:
        _, created = await _user_with_key(env)
        ctx = FakeCtx()
        principal = await principal_for({"x-api-key": created["apiKey"]}, env, ctx, required=True)
        assert principal is not None
        assert len(ctx.tasks) == 1
        await ctx.drain()
        assert env.DB.rows("SELECT last_used_at FROM api_keys")[0]["last_used_at"] is not None

    run(go())


def test_principal_for_missing_and_bad_keys(env: FakeEnv) -> None:
    async def go() -> None:
        assert await principal_for({}, env, FakeCtx(), required=False) is None
        with pytest.raises(ApiError) as missing:
            await principal_for({}, env, FakeCtx(), required=True)
        assert missing.value.status == 401 and "API key" in missing.value.message
        with pytest.raises(ApiError) as bad:
            await principal_for({"x-api-key": "iui_nope"}, env, FakeCtx(), required=False)
        assert bad.value.status == 401 and "Invalid" in bad.value.message

    run(go())


def test_ensure_user_creates_once_and_changes_tier(env: FakeEnv) -> None:
    async def go() -> None:
        user, created = await users.ensure_user(env.DB, "A@Example.com", "developer")
        assert created and user["email"] == "a@example.com" and user["tier"] == "developer"
        again, created_again = await users.ensure_user(env.DB, "a@example.com")
        assert not created_again and again["id"] == user["id"] and again["tier"] == "developer"
        changed, _ = await users.ensure_user(env.DB, "a@example.com", "business")
        assert changed["tier"] == "business"
        with pytest.raises(users.UserInputError, match="tier"):
            await users.ensure_user(env.DB, "a@example.com", "gold")
        with pytest.raises(users.UserInputError, match="e-mail"):
            await users.ensure_user(env.DB, "nobody")

    run(go())
