"""The example API under attack (issue 18, finding 17): event ownership, the AI quota, GraphQL
limits and the failed-key rate limit. Runs over the SQLite fake and the real local D1."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from graphql import get_introspection_query

from inference_api import keys, users
from inference_api.app import create_app
from inference_api.auth import MAX_FAILURES
from inference_api.graphql_limits import MAX_ALIASES, MAX_DEPTH, MAX_MUTATIONS
from inference_common.usage import events_this_month, reserve_ai_request
from iui_fakes import FakeEnv, call_asgi, run
from test_iui_app import FakeStreaming

APP = create_app()
NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def call(env: FakeEnv, method: str, path: str, **kw: Any) -> tuple[int, dict[str, str], Any]:
    status, headers, chunks = asyncio.run(call_asgi(APP, method, path, env=env, **kw))
    body = b"".join(chunks)
    return status, headers, json.loads(body) if body else None


async def _user_and_key(env: FakeEnv, email: str, tier: str = "free") -> tuple[str, str]:
    user, _ = await users.ensure_user(env.DB, email, tier)
    created = await keys.create_key(env.DB, user["id"], "k")
    return str(user["id"]), str(created["apiKey"])


# -- events belong to the key that sends them ------------------------------------------------


def test_anonymous_events_cannot_charge_or_lock_out_another_account(env: FakeEnv) -> None:
    env.TIER_LIMITS = {"free": {"events": 2}}
    victim, key = run(_user_and_key(env, "victim@example.com"))
    spoofed = [{"event": "click", "timestamp": NOW, "userId": victim} for _ in range(5)]
    status, _, body = call(env, "POST", "/events", body=json.dumps(spoofed).encode())
    assert status == 200 and body["processed"] == 5
    assert run(events_this_month(env.DB, victim, NOW + 1)) == 0
    rows = env.DB.rows("SELECT user_id, properties FROM events")
    assert {r["user_id"] for r in rows} == {None}
    assert {json.loads(r["properties"])["userId"] for r in rows} == {victim}
    # The victim is not locked out of their own quota.
    own = [{"event": "click", "timestamp": NOW}]
    status, _, _ = call(
        env, "POST", "/events", body=json.dumps(own).encode(), headers={"x-api-key": key}
    )
    assert status == 200


# -- the AI quota is reserved before generation, atomically -----------------------------------


def test_concurrent_ai_requests_cannot_overshoot_the_quota(env: FakeEnv) -> None:
    env.TIER_LIMITS = {"free": {"aiRequests": 3}}
    env.STREAMING = FakeStreaming([b'data: {"type":"done"}\n\n'])
    _, key = run(_user_and_key(env, "ai@example.com"))

    async def burst() -> list[int]:
        calls = [
            call_asgi(APP, "POST", "/stream/chat", env=env, body=b"{}", headers={"x-api-key": key})
            for _ in range(12)
        ]
        return [status for status, _, _ in await asyncio.gather(*calls)]

    statuses = run(burst())
    assert sorted(statuses) == [200] * 3 + [429] * 9
    assert len(env.STREAMING.calls) == 3  # only admitted requests reached generation


def test_reservations_race_for_the_last_slot(env: FakeEnv) -> None:
    async def race() -> list[str | None]:
        return list(
            await asyncio.gather(*(reserve_ai_request(env.DB, "u1", 5, NOW) for _ in range(20)))
        )

    granted = [r for r in run(race()) if r is not None]
    assert len(granted) == 5 and len(set(granted)) == 5


def test_a_refused_upstream_gives_the_reservation_back(env: FakeEnv) -> None:
    env.TIER_LIMITS = {"free": {"aiRequests": 1}}
    env.STREAMING = FakeStreaming(
        [b'{"error": "bad input"}'], status=400, content_type="application/json"
    )
    _, key = run(_user_and_key(env, "refund@example.com"))
    for _ in range(3):
        status, _, _ = call(env, "POST", "/stream/chat", body=b"{}", headers={"x-api-key": key})
        assert status == 400  # never 429: nothing was generated, nothing was used
    assert env.DB.rows("SELECT COUNT(*) AS n FROM ai_reservations") == [{"n": 0}]


# -- GraphQL limits ---------------------------------------------------------------------------


def _gql(env: FakeEnv, key: str, query: str) -> dict[str, Any]:
    status, _, body = call(
        env,
        "POST",
        "/graphql",
        body=json.dumps({"query": query}).encode(),
        headers={"x-api-key": key},
    )
    assert status == 200
    return dict(body)


def test_graphql_refuses_deep_wide_and_bulk_documents_before_running(env: FakeEnv) -> None:
    _, key = run(_user_and_key(env, "gql@example.com"))
    assert "errors" not in _gql(env, key, "query { me { id email } }")
    nested = (
        "{ __schema { types { "
        + "fields { type { " * MAX_DEPTH
        + "name"
        + " } }" * MAX_DEPTH
        + " } } }"
    )
    assert "nested too deeply" in _gql(env, key, nested)["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(MAX_ALIASES + 1)) + " }"
    assert "too many aliases" in _gql(env, key, aliases)["errors"][0]["message"]
    huge = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(20_000)) + " }"
    result = _gql(env, key, huge)
    assert result["data"] is None and "tokens" in result["errors"][0]["message"]
    bulk = (
        "mutation { "
        + " ".join(
            f'k{i}: createApiKey(input: {{name: "n{i}"}}) {{ keyPrefix }}'
            for i in range(MAX_MUTATIONS + 1)
        )
        + " }"
    )
    result = _gql(env, key, bulk)
    assert result["data"] is None and "Too many mutations" in result["errors"][0]["message"]
    assert env.DB.rows("SELECT COUNT(*) AS n FROM api_keys") == [{"n": 1}]  # nothing ran


def test_graphql_introspection_still_works(env: FakeEnv) -> None:
    _, key = run(_user_and_key(env, "tools@example.com"))
    result = _gql(env, key, get_introspection_query())
    assert "errors" not in result and result["data"]["__schema"]["queryType"]["name"] == "Query"


def test_a_user_cannot_hoard_keys(env: FakeEnv) -> None:
    async def go() -> None:
        user, _ = await users.ensure_user(env.DB, "hoard@example.com", "free")
        for i in range(keys.MAX_ACTIVE_KEYS):
            await keys.create_key(env.DB, user["id"], f"k{i}")
        try:
            await keys.create_key(env.DB, user["id"], "one too many")
        except keys.KeyInputError as exc:
            assert "active keys" in str(exc)
        else:
            raise AssertionError("the key cap was not enforced")

    run(go())


# -- failed keys are rate limited -------------------------------------------------------------


def test_guessing_keys_is_rate_limited_with_retry_after(env: FakeEnv) -> None:
    _, key = run(_user_and_key(env, "owner@example.com"))
    guesser = {"cf-connecting-ip": "203.0.113.9"}
    for i in range(MAX_FAILURES):
        status, _, _ = call(
            env, "POST", "/graphql", body=b"{}", headers={**guesser, "x-api-key": f"iui_guess{i}"}
        )
        assert status == 401
    status, headers, body = call(
        env, "POST", "/graphql", body=b"{}", headers={**guesser, "x-api-key": "iui_guess-more"}
    )
    assert status == 429 and "Too many invalid API keys" in body["error"]
    assert 1 <= int(headers["retry-after"]) <= 60 and body["retryAfter"] == int(
        headers["retry-after"]
    )
    # Another client is not affected; the blocked one waits even with a valid key.
    query = json.dumps({"query": "{ me { id } }"}).encode()
    other = {"cf-connecting-ip": "198.51.100.1", "x-api-key": key}
    assert call(env, "POST", "/graphql", body=query, headers=other)[0] == 200
    assert (
        call(env, "POST", "/graphql", body=query, headers={**guesser, "x-api-key": key})[0] == 429
    )
