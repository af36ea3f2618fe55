"""The streaming worker: routes, body validation, the SSE protocol, cache, usage, disconnects."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tests.waits import await_until
from workers import Request, Response

from inference_streaming import generate
from inference_streaming.cache import cache_key
from inference_streaming.gate import gate_for
from inference_streaming.requests import parse_chat
from inference_streaming.worker import handle
from iui_fakes import FakeAI, FakeCtx, FakeEnv, run, sse_events

CHAT = {"messages": [{"role": "user", "parts": [{"type": "text", "text": "Hello!"}]}]}
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city", "population"],
}


def request(method: str, path: str, body: Any = None) -> Request:
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    return Request(
        f"http://localhost:8788{path}",
        method=method,
        body=data,
        headers={"x-inference-user-id": "user-1"},
    )


async def answer(env: FakeEnv, req: Request, ctx: FakeCtx | None = None) -> tuple[Response, bytes]:
    ctx = ctx or FakeCtx()
    response = await handle(req, env, ctx)
    body = await response.bytes()
    await ctx.drain()
    return response, body


def test_health_404_405_and_preflight(env: FakeEnv) -> None:
    response, body = run(answer(env, request("GET", "/health")))
    data = json.loads(body)
    assert response.status == 200 and data["status"] == "healthy" and data["worker"] == "streaming"
    response, body = run(answer(env, request("GET", "/nope")))
    assert response.status == 404 and json.loads(body)["error"] == "Not found"
    response, body = run(answer(env, request("GET", "/chat")))
    assert response.status == 405 and json.loads(body)["allowed"] == ["POST"]
    response, _ = run(answer(env, request("OPTIONS", "/chat")))
    assert response.status == 204 and response.headers.get("access-control-allow-origin") == "*"


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/chat", b"nope", "must be JSON"),
        ("/chat", {}, "'messages' is required"),
        ("/chat", {"messages": [{"role": "robot", "parts": []}]}, "messages[0].role"),
        ("/chat", {"messages": [{"role": "user", "parts": [{"type": "image"}]}]}, "no text part"),
        ("/chat", {**CHAT, "temperature": 9}, "'temperature'"),
        ("/chat", {**CHAT, "maxTokens": 0}, "'maxTokens'"),
        ("/completion", {"prompt": ""}, "'prompt' is required"),
        ("/object", {"prompt": "x"}, "'schema' is required"),
        ("/object", {"prompt": "x", "schema": "{bad"}, "not JSON"),
        ("/object", {"prompt": "x", "schema": {"type": "thing"}}, "not a valid JSON Schema"),
    ],
)
def test_invalid_bodies_are_400_before_any_stream(
    env: FakeEnv, ai: FakeAI, path: str, body: Any, message: str
) -> None:
    response, data = run(answer(env, request("POST", path, body)))
    assert response.status == 400 and message in json.loads(data)["error"]
    assert ai.calls == []


def test_chat_streams_the_protocol_and_records_usage(env: FakeEnv, ai: FakeAI) -> None:
    response, body = run(answer(env, request("POST", "/chat", {**CHAT, "chatId": "c1"})))
    assert response.status == 200
    assert response.headers.get("content-type").startswith("text/event-stream")
    events = sse_events(body)
    assert [e["type"] for e in events] == [
        "message-start",
        "message-part",
        "message-part",
        "message-part",
        "message-end",
        "done",
    ]
    assert events[0]["message"]["metadata"]["chatId"] == "c1"
    assert [e["part"]["text"] for e in events[1:4]] == ["Hello", " there", "!"]
    end = events[4]["message"]
    assert end["parts"] == [{"type": "text", "text": "Hello there!"}] and end["id"]
    assert end["metadata"]["usage"] == {"promptTokens": 7, "completionTokens": 3}
    model, inputs = ai.calls[0]
    assert model == "@cf/meta/llama-3.1-8b-instruct" and inputs["stream"] is True
    assert inputs["messages"] == [{"role": "user", "content": "Hello!"}]
    usage = env.DB.rows("SELECT * FROM ai_usage")
    assert len(usage) == 1 and usage[0]["status"] == "ok" and usage[0]["user_id"] == "user-1"
    assert usage[0]["completion_tokens"] == 3 and usage[0]["cached"] == 0
    assert env.ANALYTICS.points[0]["blobs"][:3] == ["chat", model, "ok"]
    assert env.KV.data == {}  # temperature not 0: never cached


def test_completion_with_system_prompt(env: FakeEnv, ai: FakeAI) -> None:
    body = {
        "prompt": "What are Cloudflare service bindings?",
        "maxTokens": 500,
        "systemPrompt": "Be brief.",
    }
    _, data = run(answer(env, request("POST", "/completion", body)))
    assert sse_events(data)[-1] == {"type": "done"}
    inputs = ai.calls[0][1]
    assert inputs["max_tokens"] == 500
    assert inputs["messages"][0] == {"role": "system", "content": "Be brief."}


def test_deterministic_requests_are_served_from_kv(env: FakeEnv, ai: FakeAI) -> None:
    body = {**CHAT, "temperature": 0}
    _, first = run(answer(env, request("POST", "/chat", body)))
    key = cache_key(parse_chat(json.dumps(body).encode()))
    assert json.loads(env.KV.data[key])["text"] == "Hello there!"
    assert env.KV.ttls[key] == 3600
    _, second = run(answer(env, request("POST", "/chat", body)))
    assert len(ai.calls) == 1
    events = sse_events(second)
    assert events[-2]["message"]["parts"][0]["text"] == "Hello there!"
    assert events[-2]["message"]["metadata"]["cached"] is True
    assert [r["cached"] for r in env.DB.rows("SELECT cached FROM ai_usage ORDER BY cached")] == [
        0,
        1,
    ]


def test_ai_failure_becomes_an_error_event(env: FakeEnv, ai: FakeAI) -> None:
    ai.fail = RuntimeError("model @cf/x is not pulled")
    response, body = run(answer(env, request("POST", "/chat", CHAT)))
    events = sse_events(body)
    assert response.status == 200
    assert [e["type"] for e in events] == ["message-start", "error"]
    assert events[1]["error"]["message"] == "model @cf/x is not pulled"
    assert env.DB.rows("SELECT status FROM ai_usage") == [{"status": "error"}]


def test_client_disconnect_stops_generation(env: FakeEnv, ai: FakeAI) -> None:
    ai.pieces = [f"t{i} " for i in range(1000)]
    ai.delay = 0.001

    async def go() -> None:
        ctx = FakeCtx()
        generation = parse_chat(json.dumps(CHAT).encode())
        stream = generate.events(env, ctx, generation, "user-1", generate.ai_text)
        received = [await stream.__anext__() for _ in range(3)]  # start + two parts
        assert b"message-part" in received[-1]
        await stream.aclose()  # type: ignore[attr-defined]  # what happens to the body when the client goes away
        assert ai.streams[0].closed
        assert ai.streams[0].sent < 10
        await ctx.drain()

    run(go())
    assert env.DB.rows("SELECT status FROM ai_usage") == [{"status": "aborted"}]


def test_object_is_valid_against_the_schema(env: FakeEnv, ai: FakeAI) -> None:
    ai.objects = ['```json\n{"city": "Paris", "population": "2100000"}\n```']
    body = {"prompt": "Largest city of France", "schema": json.dumps(SCHEMA)}
    _, data = run(answer(env, request("POST", "/object", body)))
    events = sse_events(data)
    assert [e["type"] for e in events] == ["message-start", "message-part", "message-end", "done"]
    assert json.loads(events[1]["part"]["text"]) == {"city": "Paris", "population": 2100000}
    assert events[2]["message"]["metadata"]["object"] == {"city": "Paris", "population": 2100000}
    inputs = ai.calls[0][1]
    assert inputs["response_format"] == {"type": "json_schema", "json_schema": SCHEMA}
    assert "stream" not in inputs


def test_object_retries_then_reports_an_error(env: FakeEnv, ai: FakeAI) -> None:
    ai.objects = [{"city": "Paris"}, {"city": "Paris", "population": 2}]
    _, data = run(answer(env, request("POST", "/object", {"prompt": "p", "schema": SCHEMA})))
    assert json.loads(sse_events(data)[1]["part"]["text"]) == {"city": "Paris", "population": 2}
    assert "not valid" in ai.calls[1][1]["messages"][-1]["content"]

    ai.objects = [{"city": 1}, "no idea"]
    _, data = run(answer(env, request("POST", "/object", {"prompt": "q", "schema": SCHEMA})))
    events = sse_events(data)
    assert [e["type"] for e in events] == ["message-start", "error"]
    assert "could not generate JSON valid against the schema" in events[1]["error"]["message"]


def test_oversized_bodies_are_413(env: FakeEnv, ai: FakeAI) -> None:
    big = b'{"prompt": "' + b"x" * (1024 * 1024) + b'"}'
    response, data = run(answer(env, request("POST", "/completion", big)))
    assert response.status == 413 and "larger than" in json.loads(data)["error"]
    assert ai.calls == []


def test_a_failing_cache_does_not_fail_the_answer(
    env: FakeEnv, ai: FakeAI, capsys: pytest.CaptureFixture[str]
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("kv store unreadable")

    env.KV.get = broken
    _, data = run(answer(env, request("POST", "/chat", {**CHAT, "temperature": 0})))
    assert sse_events(data)[-1] == {"type": "done"}
    assert "kv store unreadable" in capsys.readouterr().err


def test_generations_over_the_bound_get_503_and_queued_ones_wait(env: FakeEnv, ai: FakeAI) -> None:
    env.MAX_CONCURRENT_GENERATIONS = "1"
    env.MAX_QUEUED_GENERATIONS = "1"
    ai.pieces = ["a", "b", "c"]
    ai.delay = 0.01

    async def go() -> None:
        ctx = FakeCtx()
        first = (await handle(request("POST", "/chat", CHAT), env, ctx)).body
        second = (await handle(request("POST", "/chat", CHAT), env, ctx)).body
        assert first is not None and second is not None
        await first.__anext__()  # message-start
        await first.__anext__()  # a part: the first holds the running slot
        await second.__anext__()  # message-start; now it waits in the queue
        waiting = asyncio.ensure_future(second.__anext__())
        gate = gate_for(env)
        await await_until(lambda: gate.admitted == 2, "the second generation to take a place")
        # Queued behind the first: its model call has not begun (a second place that ran at
        # once would have called the model before the loop came back here).
        assert len(ai.calls) == 1 and not waiting.done()
        refused = await handle(request("POST", "/chat", CHAT), env, ctx)
        assert refused.status == 503 and refused.headers.get("retry-after") == "1"
        assert "Too many generations" in (await refused.json())["error"]
        rest = b"".join([chunk async for chunk in first])
        assert b'"done"' in rest
        assert b"message-part" in await waiting
        assert b'"done"' in b"".join([chunk async for chunk in second])
        accepted = await handle(request("POST", "/chat", CHAT), env, ctx)
        assert accepted.status == 200
        await accepted.bytes()
        await ctx.drain()

    run(go())
