"""The Inference UI example through the real ``wranglerpy dev``: both workers, real bindings.

AI-free parts run as ``integration``; the ones that generate text also need the local model
(``slow``).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from wranglerpy.testing import DevServer

from test_iui_graphql import (
    ANALYTICS,
    API_KEYS,
    CREATE_FLOW,
    CREATE_KEY,
    DELETE_FLOW,
    FLOWS,
    GET_FLOW,
    ME,
    REVOKE_KEY,
    USAGE,
)

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inference-ui"
API, STREAMING = "inference-ui-api", "inference-ui-streaming"
LIMITS = '{"free": {"events": 3, "aiRequests": 2}}'
CHAT = {"messages": [{"role": "user", "parts": [{"type": "text", "text": "Hello!"}]}]}


def cli(*args: str, cwd: Path = EXAMPLE) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "wranglerpy", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def create_key(persist: Path, email: str, tier: str = "developer") -> str:
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE / "scripts" / "create-api-key"),
            "--email",
            email,
            "--tier",
            tier,
            "--persist-to",
            str(persist),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    persist = tmp_path_factory.mktemp("iui-state")
    cli("d1", "migrations", "apply", "inference-ui-db", "--local", "--persist-to", str(persist))
    keys = {
        "dev": create_key(persist, "dev@example.com"),
        "free": create_key(persist, "free@example.com", "free"),
    }
    server = DevServer(
        EXAMPLE / "wrangler.toml",
        EXAMPLE / "wrangler-streaming.toml",
        cwd=EXAMPLE,
        persist_to=persist,
        extra_args=["--var", f"TIER_LIMITS:{LIMITS}"],
        watch=False,
    ).start()
    try:
        yield {"server": server, "keys": keys, "persist": persist}
    finally:
        server.close()


def gql(stack: dict[str, Any], query: str, key: str | None = None, **variables: Any) -> Any:
    api = stack["server"].client(API)
    response = api.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {key or stack['keys']['dev']}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def seed_curl(command: str, stack: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """A seed's curl command, verbatim but for the ports this test's dev server got."""
    server = stack["server"]
    command = command.replace("http://localhost:8787", server.url(API))
    command = command.replace("http://localhost:8788", server.url(STREAMING))
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=300)


def test_seed_health_commands(stack: dict[str, Any]) -> None:
    api = seed_curl("curl http://localhost:8787/health", stack)
    assert json.loads(api.stdout)["status"] == "healthy"
    streaming = seed_curl("curl http://localhost:8788/health", stack)
    assert json.loads(streaming.stdout)["worker"] == "streaming"


def test_index_cors_and_json_errors(stack: dict[str, Any]) -> None:
    api = stack["server"].client(API)
    index = api.get("/").json()
    assert index["name"] == API and index["architecture"] == "service-bindings"
    assert index["version"] == "1.0.0"
    preflight = api.options(
        "/graphql", headers={"origin": "http://x", "access-control-request-method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    missing = api.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"] == "Not found"
    wrong = api.get("/graphql")
    assert wrong.status_code == 405 and "POST" in wrong.json()["allowed"]
    assert "text/html" in api.get("/chat/").headers["content-type"]


def test_auth_failures(stack: dict[str, Any]) -> None:
    api = stack["server"].client(API)
    body = {"query": ME}
    assert api.post("/graphql", json=body).status_code == 401
    bad = api.post("/graphql", json=body, headers={"x-api-key": "iui_nope"})
    assert bad.status_code == 401 and "Invalid API key" in bad.json()["error"]
    made = gql(stack, CREATE_KEY, name="short-lived")["data"]["createApiKey"]
    assert (
        api.post("/graphql", json=body, headers={"x-api-key": made["apiKey"]}).json()["data"]["me"][
            "email"
        ]
        == "dev@example.com"
    )
    revoked = gql(stack, REVOKE_KEY, keyPrefix=made["keyPrefix"])
    assert revoked["data"]["revokeApiKey"]["success"] is True
    assert api.post("/graphql", json=body, headers={"x-api-key": made["apiKey"]}).status_code == 401
    assert (
        api.post(
            "/graphql", content=b"{not json", headers={"x-api-key": stack["keys"]["dev"]}
        ).status_code
        == 400
    )


def test_a_used_key_gets_its_last_use_recorded_after_the_response(
    stack: dict[str, Any],
) -> None:
    """The API worker records ``lastUsedAt`` after answering, through ``workers.wait_until``
    (Cloudflare's ``asgi.fetch`` gives an ASGI app no ``ctx``), so the example deploys as is."""
    made = gql(stack, CREATE_KEY, name="touched")["data"]["createApiKey"]
    assert gql(stack, ME, key=made["apiKey"])["data"]["me"]["email"] == "dev@example.com"

    def last_used() -> Any:
        keys = gql(stack, API_KEYS, key=made["apiKey"])["data"]["apiKeys"]
        return next(k["lastUsedAt"] for k in keys if k["keyPrefix"] == made["keyPrefix"])

    deadline = time.monotonic() + 30
    while last_used() is None:  # each request answers before its waitUntil work ends
        assert time.monotonic() < deadline, "lastUsedAt was never recorded"


def test_every_graphql_operation(stack: dict[str, Any]) -> None:
    me = gql(stack, ME)["data"]["me"]
    assert me["email"] == "dev@example.com" and me["tier"] == "developer"
    keys = gql(stack, API_KEYS)["data"]["apiKeys"]
    assert keys and all(k["keyPrefix"].startswith("iui_") for k in keys)
    made = gql(stack, CREATE_KEY, name="ci", expiresInDays=7)["data"]["createApiKey"]
    assert made["expiresAt"] > made["createdAt"]
    assert gql(stack, REVOKE_KEY, keyPrefix=made["keyPrefix"])["data"]["revokeApiKey"] == {
        "success": True
    }
    flow = gql(stack, CREATE_FLOW, name="Onboarding", steps=[{"type": "form"}])["data"][
        "createFlow"
    ]
    assert gql(stack, GET_FLOW, id=flow["id"])["data"]["flow"] == flow
    assert flow in gql(stack, FLOWS)["data"]["flows"]
    # Another user sees none of it.
    other = stack["keys"]["free"]
    assert gql(stack, GET_FLOW, key=other, id=flow["id"])["data"]["flow"] is None
    assert gql(stack, DELETE_FLOW, key=other, id=flow["id"])["data"]["deleteFlow"] == {
        "success": False
    }
    assert gql(stack, DELETE_FLOW, id=flow["id"])["data"]["deleteFlow"] == {"success": True}
    now = int(time.time())
    analytics = gql(stack, ANALYTICS, startDate=now - 3600, endDate=now + 3600)
    assert "errors" not in analytics and "totalEvents" in analytics["data"]["analytics"]["metrics"]
    usage = gql(stack, USAGE)["data"]["usageMetrics"]
    assert usage["tier"] == "developer" and usage["eventsLimit"] == 100_000


def test_events_validation_storage_and_limits(stack: dict[str, Any]) -> None:
    api = stack["server"].client(API)
    now = int(time.time() * 1000)
    good = {"event": "click", "timestamp": now, "component": "Button", "sessionId": "s1"}
    result = api.post("/events", json=[good, {"event": ""}]).json()
    assert result["processed"] == 1 and result["errors"][0]["index"] == 1
    key = {"x-api-key": stack["keys"]["free"]}
    assert api.post("/api/events", json=[good, good], headers=key).status_code == 200
    over = api.post("/events", json=[good, good], headers=key)
    assert over.status_code == 429 and over.json()["limit"] == 3
    big = api.post(
        "/events",
        content=b"[" + b" " * (1024 * 1024) + b"]",
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413
    usage = gql(stack, USAGE, key=stack["keys"]["free"])["data"]["usageMetrics"]
    assert usage["eventsThisMonth"] == 2 and usage["eventsLimit"] == 3


SEED_CHAT = """curl -X POST http://localhost:8787/stream/chat \\
  -H "Content-Type: application/json" \\
  -d '{
    "messages": [
      {"role": "user", "parts": [{"type": "text", "text": "Hello!"}]}
    ]
  }'"""
SEED_COMPLETION = """curl -X POST http://localhost:8787/stream/completion \\
  -H "Content-Type: application/json" \\
  -d '{
    "prompt": "What are Cloudflare service bindings?",
    "maxTokens": 500
  }'"""


def sse(text: str) -> list[dict[str, Any]]:
    return [json.loads(b[6:]) for b in text.split("\n\n") if b.startswith("data: ")]


@pytest.mark.slow
def test_seed_chat_and_completion_commands_stream_an_answer(stack: dict[str, Any]) -> None:
    for command in (SEED_CHAT, SEED_COMPLETION):
        done = seed_curl(command, stack)
        events = sse(done.stdout)
        kinds = [e["type"] for e in events]
        assert kinds[0] == "message-start" and kinds[-2:] == ["message-end", "done"], kinds
        assert kinds.count("message-part") >= 1
        text = "".join(e["part"]["text"] for e in events if e["type"] == "message-part")
        assert text.strip() and events[-2]["message"]["parts"][0]["text"] == text


@pytest.mark.slow
def test_first_part_arrives_before_generation_ends(stack: dict[str, Any]) -> None:
    url = stack["server"].url(API) + "/stream/chat"
    body = {**CHAT, "maxTokens": 64}
    started = time.perf_counter()
    stamps: dict[str, float] = {}
    with httpx.Client(timeout=300) as client, client.stream("POST", url, json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                kind = json.loads(line[6:])["type"]
                stamps.setdefault(kind, time.perf_counter() - started)
    assert stamps["message-part"] < stamps["message-end"], stamps


@pytest.mark.slow
def test_object_is_valid_against_its_schema(stack: dict[str, Any]) -> None:
    from jsonschema import validate

    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
        "required": ["city", "country"],
    }
    response = (
        stack["server"]
        .client(API)
        .post(
            "/stream/object",
            json={"prompt": "Name the capital of France.", "schema": schema, "maxTokens": 100},
        )
    )
    events = sse(response.text)
    assert events[-1]["type"] == "done", events
    value = json.loads(events[-2]["message"]["parts"][0]["text"])
    validate(value, schema)


@pytest.mark.slow
def test_usage_written_by_streaming_is_read_by_the_api(stack: dict[str, Any]) -> None:
    key = stack["keys"]["free"]
    api = stack["server"].client(API, timeout=300)
    before = gql(stack, USAGE, key=key)["data"]["usageMetrics"]["aiRequestsThisMonth"]
    answer = api.post(
        "/stream/chat", json={**CHAT, "maxTokens": 8}, headers={"authorization": f"Bearer {key}"}
    )
    assert sse(answer.text)[-1]["type"] == "done"
    deadline = time.monotonic() + 10
    while gql(stack, USAGE, key=key)["data"]["usageMetrics"]["aiRequestsThisMonth"] == before:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    api.post(
        "/stream/chat", json={**CHAT, "maxTokens": 8}, headers={"authorization": f"Bearer {key}"}
    )
    refused = api.post("/stream/chat", json=CHAT, headers={"authorization": f"Bearer {key}"})
    assert refused.status_code == 429 and "AI request limit" in refused.json()["error"]


@pytest.mark.slow
def test_a_client_that_disconnects_stops_generation(stack: dict[str, Any]) -> None:
    url = stack["server"].url(API) + "/stream/chat"
    body = {
        "messages": [
            {"role": "user", "parts": [{"type": "text", "text": "Write a very long story."}]}
        ],
        "maxTokens": 2000,
        "chatId": "disconnect-test",
    }
    with httpx.Client(timeout=60) as client, client.stream("POST", url, json=body) as response:
        for line in response.iter_lines():
            if '"message-part"' in line:
                break  # leave after the first piece
    database = next(stack["persist"].glob("d1/*/db.sqlite"))
    deadline = time.monotonic() + 10
    while True:
        with contextlib.closing(sqlite3.connect(database)) as conn:
            rows = conn.execute(
                "SELECT status, duration_ms FROM ai_usage WHERE status = 'aborted'"
            ).fetchall()
        if rows or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert rows, "the aborted generation was not recorded"
    assert rows[-1][1] < 5000  # stopped early, not run to maxTokens
