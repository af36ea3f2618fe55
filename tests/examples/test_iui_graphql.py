"""Every GraphQL operation of the contract, as the published JS client sends it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inference_api import graphql_http, keys, users
from inference_api.errors import ApiError
from inference_api.keys import Principal
from iui_fakes import FakeEnv, run

ME = "query { me { id email tier createdAt } }"
API_KEYS = "query { apiKeys { id keyPrefix name lastUsedAt expiresAt revokedAt createdAt } }"
CREATE_KEY = (
    "mutation CreateApiKey($name: String!, $expiresInDays: Int) { createApiKey(input: "
    "{name: $name, expiresInDays: $expiresInDays}) { apiKey keyPrefix createdAt expiresAt } }"
)
REVOKE_KEY = (
    "mutation RevokeApiKey($keyPrefix: String!) { revokeApiKey(keyPrefix: $keyPrefix) { success } }"
)
FLOWS = "query { flows { id userId name steps createdAt updatedAt } }"
GET_FLOW = "query GetFlow($id: ID!) { flow(id: $id) { id userId name steps createdAt updatedAt } }"
CREATE_FLOW = (
    "mutation CreateFlow($name: String!, $steps: JSON!) { createFlow(input: {name: $name, "
    "steps: $steps}) { id userId name steps createdAt updatedAt } }"
)
DELETE_FLOW = "mutation DeleteFlow($id: ID!) { deleteFlow(id: $id) { success } }"
ANALYTICS = (
    "query Analytics($userId: ID, $startDate: Int!, $endDate: Int!, $metrics: [String!], "
    "$groupBy: String) { analytics(userId: $userId, startDate: $startDate, endDate: $endDate, "
    "metrics: $metrics, groupBy: $groupBy) { metrics breakdown } }"
)
USAGE = (
    "query { usageMetrics { userId tier eventsThisMonth eventsLimit aiRequestsThisMonth "
    "aiRequestsLimit } }"
)


async def principal(env: FakeEnv, email: str, tier: str = "free") -> Principal:
    user, _ = await users.ensure_user(env.DB, email, tier)
    created = await keys.create_key(env.DB, user["id"], "bootstrap")
    found = await keys.authenticate(env.DB, created["apiKey"])
    assert found is not None
    return found


async def gql(env: FakeEnv, who: Principal, query: str, **variables: Any) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables}).encode()
    return await graphql_http.execute(body, env, who)


def test_me(env: FakeEnv) -> None:
    async def go() -> None:
        alice = await principal(env, "alice@example.com", "developer")
        result = await gql(env, alice, ME)
        assert "errors" not in result
        me = result["data"]["me"]
        assert me["id"] == alice.user_id and me["email"] == "alice@example.com"
        assert me["tier"] == "developer"
        assert isinstance(me["createdAt"], int) and me["createdAt"] > 1_600_000_000_000

    run(go())


def test_create_list_revoke_keys(env: FakeEnv) -> None:
    async def go() -> None:
        alice = await principal(env, "alice@example.com")
        made = await gql(env, alice, CREATE_KEY, name="ci", expiresInDays=30)
        assert "errors" not in made, made
        new = made["data"]["createApiKey"]
        assert new["apiKey"].startswith(new["keyPrefix"]) and new["apiKey"].startswith("iui_")
        assert new["expiresAt"] - new["createdAt"] == 30 * keys.DAY_MS
        assert await keys.authenticate(env.DB, new["apiKey"]) is not None

        listed = (await gql(env, alice, API_KEYS))["data"]["apiKeys"]
        assert {k["name"] for k in listed} == {"bootstrap", "ci"}
        assert all("apiKey" not in k for k in listed)
        ci = next(k for k in listed if k["name"] == "ci")
        assert ci["keyPrefix"] == new["keyPrefix"] and ci["revokedAt"] is None

        revoked = await gql(env, alice, REVOKE_KEY, keyPrefix=new["keyPrefix"])
        assert revoked["data"]["revokeApiKey"] == {"success": True}
        assert await keys.authenticate(env.DB, new["apiKey"]) is None
        again = await gql(env, alice, REVOKE_KEY, keyPrefix=new["keyPrefix"])
        assert again["data"]["revokeApiKey"] == {"success": False}
        listed = (await gql(env, alice, API_KEYS))["data"]["apiKeys"]
        assert next(k for k in listed if k["name"] == "ci")["revokedAt"] is not None

    run(go())


def test_key_without_expiry_and_bad_expiry(env: FakeEnv) -> None:
    async def go() -> None:
        alice = await principal(env, "alice@example.com")
        made = await gql(env, alice, CREATE_KEY, name="forever")
        assert made["data"]["createApiKey"]["expiresAt"] is None
        bad = await gql(env, alice, CREATE_KEY, name="x", expiresInDays=0)
        assert bad["data"] is None
        assert "expiresInDays must be between" in bad["errors"][0]["message"]

    run(go())


def test_flows_crud_and_isolation(env: FakeEnv) -> None:
    async def go() -> None:
        alice = await principal(env, "alice@example.com")
        bob = await principal(env, "bob@example.com")
        steps = [{"type": "form", "fields": ["email"]}, {"type": "ai", "prompt": "hi"}]
        created = await gql(env, alice, CREATE_FLOW, name="Onboarding", steps=steps)
        assert "errors" not in created, created
        flow = created["data"]["createFlow"]
        assert flow["steps"] == steps and flow["userId"] == alice.user_id
        assert flow["createdAt"] == flow["updatedAt"]

        assert (await gql(env, alice, FLOWS))["data"]["flows"] == [flow]
        assert (await gql(env, alice, GET_FLOW, id=flow["id"]))["data"]["flow"] == flow
        # Bob sees nothing of Alice's, and cannot delete it.
        assert (await gql(env, bob, FLOWS))["data"]["flows"] == []
        assert (await gql(env, bob, GET_FLOW, id=flow["id"]))["data"]["flow"] is None
        denied = await gql(env, bob, DELETE_FLOW, id=flow["id"])
        assert denied["data"]["deleteFlow"] == {"success": False}

        deleted = await gql(env, alice, DELETE_FLOW, id=flow["id"])
        assert deleted["data"]["deleteFlow"] == {"success": True}
        assert (await gql(env, alice, FLOWS))["data"]["flows"] == []

    run(go())


def test_flow_steps_literal_json_and_bad_name(env: FakeEnv) -> None:
    async def go() -> None:
        alice = await principal(env, "alice@example.com")
        literal = await gql(
            env,
            alice,
            'mutation { createFlow(input: {name: "L", steps: [{a: 1, b: "x"}, true, null]}) '
            "{ steps } }",
        )
        assert literal["data"]["createFlow"]["steps"] == [{"a": 1, "b": "x"}, True, None]
        empty = await gql(env, alice, CREATE_FLOW, name="  ", steps=[])
        assert empty["errors"][0]["message"] == "name must not be empty"

    run(go())


async def _ingest(env: FakeEnv, who: Principal, rows: list[tuple[str, str, str, int]]) -> None:
    for i, (event, component, session, ts) in enumerate(rows):
        await (
            env.DB.prepare(
                "INSERT INTO events (id, user_id, session_id, event, component, timestamp, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            )
            .bind(f"e{who.user_id}{i}", who.user_id, session, event, component, ts, ts)
            .run()
        )


def test_analytics(env: FakeEnv) -> None:
    async def go() -> None:
        alice = await principal(env, "alice@example.com")
        bob = await principal(env, "bob@example.com")
        day = 1_700_000_000_000
        await _ingest(
            env,
            alice,
            [
                ("click", "button", "s1", day),
                ("click", "button", "s1", day + 1000),
                ("view", "page", "s2", day + 2000),
                ("click", "link", "s3", day + 90_000_000),
            ],
        )
        await _ingest(env, bob, [("click", "button", "x", day)])
        start, end = day // 1000, (day + 3000) // 1000
        result = await gql(env, alice, ANALYTICS, startDate=start, endDate=end)
        assert "errors" not in result, result
        data = result["data"]["analytics"]
        assert data["metrics"]["totalEvents"] == 3
        assert data["metrics"]["uniqueSessions"] == 2
        assert data["metrics"]["aiRequests"] == 0
        assert data["breakdown"] == [{"key": "click", "count": 2}, {"key": "view", "count": 1}]

        by_day = await gql(
            env,
            alice,
            ANALYTICS,
            userId=alice.user_id,
            startDate=start,
            endDate=end + 100_000,
            metrics=["totalEvents"],
            groupBy="day",
        )
        data = by_day["data"]["analytics"]
        assert data["metrics"] == {"totalEvents": 4}
        assert [b["count"] for b in data["breakdown"]] == [3, 1]

        other = await gql(env, alice, ANALYTICS, userId=bob.user_id, startDate=start, endDate=end)
        assert "your own" in other["errors"][0]["message"]
        unknown = await gql(
            env, alice, ANALYTICS, startDate=start, endDate=end, metrics=["revenue"]
        )
        assert "unknown metric(s) revenue" in unknown["errors"][0]["message"]
        backwards = await gql(env, alice, ANALYTICS, startDate=end, endDate=start)
        assert "endDate is before startDate" in backwards["errors"][0]["message"]

    run(go())


def test_usage_metrics(env: FakeEnv) -> None:
    async def go() -> None:
        import time

        alice = await principal(env, "alice@example.com", "developer")
        now = int(time.time() * 1000)
        await _ingest(env, alice, [("click", "b", "s", now), ("view", "p", "s", now)])
        await (
            env.DB.prepare(
                "INSERT INTO ai_usage (id, user_id, endpoint, model, status, created_at) "
                "VALUES ('u1', ?, 'chat', 'm', 'ok', ?)"
            )
            .bind(alice.user_id, now)
            .run()
        )
        result = await gql(env, alice, USAGE)
        assert result["data"]["usageMetrics"] == {
            "userId": alice.user_id,
            "tier": "developer",
            "eventsThisMonth": 2,
            "eventsLimit": 100_000,
            "aiRequestsThisMonth": 1,
            "aiRequestsLimit": 1_000,
        }
        env.TIER_LIMITS = '{"developer": {"events": 50}}'
        changed = (await gql(env, alice, USAGE))["data"]["usageMetrics"]
        assert changed["eventsLimit"] == 50 and changed["aiRequestsLimit"] == 1_000
        boss = await principal(env, "boss@example.com", "enterprise")
        limits = (await gql(env, boss, USAGE))["data"]["usageMetrics"]
        assert limits["eventsLimit"] is None and limits["aiRequestsLimit"] is None

    run(go())


def test_graphql_errors_are_in_the_errors_array(env: FakeEnv) -> None:
    async def go() -> None:
        alice = await principal(env, "alice@example.com")
        syntax = await gql(env, alice, "query { me { id ")
        assert syntax["errors"][0]["message"].startswith("Syntax Error")
        unknown = await gql(env, alice, "query { nope }")
        assert "Cannot query field 'nope'" in unknown["errors"][0]["message"]

    run(go())


def test_internal_failures_are_masked(env: FakeEnv, capsys: pytest.CaptureFixture[str]) -> None:
    async def go() -> None:
        alice = await principal(env, "alice@example.com")
        env.DB.conn.execute("DROP TABLE flows")
        result = await gql(env, alice, FLOWS)
        assert result["errors"][0]["message"] == "Internal server error"
        assert "no such table" not in json.dumps(result)

    run(go())
    assert "no such table: flows" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "must be JSON"),
        (b"[1]", "JSON object"),
        (b"{}", "Missing 'query'"),
        (b'{"query": "{ me { id } }", "variables": [1]}', "'variables' must be"),
    ],
)
def test_malformed_requests_are_400(env: FakeEnv, body: bytes, message: str) -> None:
    async def go() -> None:
        alice = await principal(env, "alice@example.com")
        with pytest.raises(ApiError) as error:
            await graphql_http.execute(body, env, alice)
        assert error.value.status == 400 and message in error.value.message

    run(go())
