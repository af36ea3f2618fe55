"""Event validation, batch ingestion into D1 and Analytics Engine, and tier limits."""

from __future__ import annotations

import json
import time

import pytest

from inference_api import events, keys, users
from inference_api.errors import ApiError
from inference_api.keys import Principal
from iui_fakes import FakeEnv, run

NOW = int(time.time() * 1000)


async def principal(env: FakeEnv, tier: str = "free") -> Principal:
    user, _ = await users.ensure_user(env.DB, "dev@example.com", tier)
    created = await keys.create_key(env.DB, user["id"], "k")
    found = await keys.authenticate(env.DB, created["apiKey"])
    assert found is not None
    return found


def test_valid_event_with_data_or_properties() -> None:
    event = events.validate_event(
        {
            "event": "click",
            "timestamp": 1.7e12,
            "sessionId": "s",
            "component": "Button",
            "data": {"x": 1},
        }
    )
    assert event.event == "click" and event.timestamp == 1_700_000_000_000
    assert event.properties == {"x": 1} and event.session_id == "s"
    assert events.validate_event({"event": "e", "timestamp": 1, "properties": {}}).properties == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("click", "must be a JSON object"),
        ({"timestamp": 1}, "'event' is required"),
        ({"event": "", "timestamp": 1}, "'event' is required"),
        ({"event": "x" * 300, "timestamp": 1}, "longer than 256"),
        ({"event": "e"}, "'timestamp' is required"),
        ({"event": "e", "timestamp": "now"}, "'timestamp' is required"),
        ({"event": "e", "timestamp": True}, "'timestamp' is required"),
        ({"event": "e", "timestamp": -5}, "positive"),
        ({"event": "e", "timestamp": 1, "sessionId": 3}, "'sessionId' must be a string"),
        ({"event": "e", "timestamp": 1, "data": [1]}, "must be a JSON object"),
        ({"event": "e", "timestamp": 1, "data": {}, "properties": {}}, "not both"),
    ],
)
def test_invalid_events_say_why(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        events.validate_event(raw)


def test_parse_batch_reports_errors_per_index() -> None:
    body = json.dumps(
        [{"event": "a", "timestamp": 1}, {"event": ""}, {"event": "b", "timestamp": 2}]
    )
    valid, errors = events.parse_batch(body.encode())
    assert [e.event for e in valid] == ["a", "b"]
    assert errors == [{"index": 1, "error": "'event' is required and must be a non-empty string"}]
    single, none = events.parse_batch(b'{"event": "one", "timestamp": 5}')
    assert len(single) == 1 and none == []


def test_parse_batch_limits() -> None:
    with pytest.raises(ApiError) as bad:
        events.parse_batch(b"{oops")
    assert bad.value.status == 400
    with pytest.raises(ApiError) as big:
        events.parse_batch(b" " * (events.MAX_BODY_BYTES + 1))
    assert big.value.status == 413
    many = json.dumps([{"event": "e", "timestamp": 1}] * (events.MAX_EVENTS_PER_REQUEST + 1))
    with pytest.raises(ApiError) as count:
        events.parse_batch(many.encode())
    assert count.value.status == 413 and "Too many events" in count.value.message


def test_store_writes_d1_summaries_and_analytics(env: FakeEnv) -> None:
    async def go() -> None:
        who = await principal(env)
        batch = [
            events.validate_event(
                {
                    "event": "click",
                    "timestamp": NOW,
                    "userId": "end-user-7",
                    "component": "Button",
                    "data": {"k": "v"},
                }
            ),
            events.validate_event({"event": "click", "timestamp": NOW, "component": "Button"}),
        ]
        await events.store(env, batch, who, NOW)
        rows = env.DB.rows("SELECT * FROM events ORDER BY properties")
        assert [r["user_id"] for r in rows] == [who.user_id, who.user_id]
        assert json.loads(rows[1]["properties"]) == {"k": "v", "userId": "end-user-7"}
        summary = env.DB.rows("SELECT user_id, event, component, count FROM event_summaries")
        assert summary == [
            {"user_id": who.user_id, "event": "click", "component": "Button", "count": 2}
        ]
        assert env.DB.batches == 1
        assert len(env.ANALYTICS.points) == 2
        assert env.ANALYTICS.points[0]["indexes"] == [who.user_id]
        assert env.ANALYTICS.points[0]["blobs"][0] == "click"

        # Without a key the events belong to nobody: a named userId is only kept as a label
        # (issue 18, finding 17: anonymous events could charge and lock out another account).
        await events.store(env, batch[:1], None, NOW)
        assert env.DB.rows("SELECT user_id FROM events WHERE user_id = 'end-user-7'") == []
        anonymous = env.DB.rows("SELECT properties FROM events WHERE user_id IS NULL")
        assert [json.loads(r["properties"])["userId"] for r in anonymous] == ["end-user-7"]
        assert env.ANALYTICS.points[-1]["indexes"] == ["anonymous"]

    run(go())


def test_quota_refuses_a_batch_over_the_monthly_limit(
    env: FakeEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inference_common import tiers

    monkeypatch.setitem(tiers.LIMITS, "free", tiers.TierLimits(3, 100))

    async def go() -> None:
        who = await principal(env)
        one = events.validate_event({"event": "e", "timestamp": NOW})
        await events.check_quota(env, who, 2, NOW)
        await events.store(env, [one, one], who, NOW)
        await events.check_quota(env, who, 1, NOW)
        with pytest.raises(ApiError) as refused:
            await events.check_quota(env, who, 2, NOW)
        assert refused.value.status == 429
        assert refused.value.body()["limit"] == 3 and refused.value.body()["used"] == 2
        await events.check_quota(env, None, 1000, NOW)  # anonymous events have no quota

    run(go())
