"""The API worker's Quart app driven as the runtime drives it (ASGI with env in the scope)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from workers import FetchResponse, Response

from inference_api import keys, users
from inference_api.app import create_app
from iui_fakes import FakeCtx, FakeEnv, call_asgi

APP = create_app()


class FakeStreaming:
    """env.STREAMING: records the forwarded request, answers with a streamed SSE body."""

    def __init__(
        self, chunks: list[bytes], status: int = 200, content_type: str = "text/event-stream"
    ) -> None:
        self.chunks = chunks
        self.status = status
        self.content_type = content_type
        self.calls: list[dict[str, Any]] = []
        self.closed = False

    async def fetch(self, url: str, *, method: str, headers: dict[str, str], body: Any) -> Response:
        # Bytes, not a Python async iterator: that is no body on Cloudflare (sdk_body.py).
        assert body is None or isinstance(body, bytes), type(body)
        received = body
        self.calls.append({"url": url, "method": method, "headers": headers, "body": received})

        async def stream() -> AsyncIterator[bytes]:
            try:
                for chunk in self.chunks:
                    yield chunk
            finally:
                self.closed = True

        # What a service binding returns: the runtime's response, whose body is a stream.
        return FetchResponse(
            stream(),
            status=self.status,
            headers={"content-type": self.content_type, "content-length": "999"},
        )


def call(env: FakeEnv, method: str, path: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
    status, headers, chunks = asyncio.run(call_asgi(APP, method, path, env=env, **kw))
    return status, headers, b"".join(chunks)


async def _key(env: FakeEnv, tier: str = "free") -> str:
    user, _ = await users.ensure_user(env.DB, "dev@example.com", tier)
    return str((await keys.create_key(env.DB, user["id"], "k"))["apiKey"])


def test_health_and_index(env: FakeEnv) -> None:
    status, headers, body = call(env, "GET", "/health")
    assert status == 200 and json.loads(body)["status"] == "healthy"
    assert headers["access-control-allow-origin"] == "*"
    status, _, body = call(env, "GET", "/")
    info = json.loads(body)
    assert info["name"] == "inference-ui-api" and info["version"] == "1.0.0"
    assert info["architecture"] == "service-bindings" and "graphql" in info["endpoints"]


def test_preflight_anywhere(env: FakeEnv) -> None:
    for path in ("/graphql", "/stream/chat", "/no/such/path"):
        status, headers, _ = call(env, "OPTIONS", path)
        assert status == 204
        assert headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
        assert headers["access-control-allow-headers"] == "Content-Type, Authorization, X-API-Key"


def test_not_found_and_method_not_allowed_are_json(env: FakeEnv) -> None:
    status, headers, body = call(env, "GET", "/nope")
    assert status == 404 and json.loads(body)["error"] == "Not found"
    assert headers["access-control-allow-origin"] == "*"
    status, _, body = call(env, "GET", "/graphql")
    assert status == 405 and "POST" in json.loads(body)["allowed"]


def test_unexpected_failure_is_a_json_500(env: FakeEnv, capsys: pytest.CaptureFixture[str]) -> None:
    env.DB.conn.execute("DROP TABLE events")
    status, headers, body = call(env, "POST", "/events", body=b'{"event":"e","timestamp":1}')
    assert status == 500 and json.loads(body) == {"error": "Internal server error"}
    assert headers["access-control-allow-origin"] == "*"
    assert "no such table" in capsys.readouterr().err


def test_graphql_needs_a_key(env: FakeEnv) -> None:
    query = json.dumps({"query": "{ me { email } }"}).encode()
    status, _, body = call(env, "POST", "/graphql", body=query)
    assert status == 401 and "API key" in json.loads(body)["error"]
    status, _, body = call(
        env, "POST", "/api/graphql", body=query, headers={"authorization": "Bearer iui_wrong"}
    )
    assert status == 401
    key = asyncio.run(_key(env))
    ctx = FakeCtx()
    status, _, body = call(
        env, "POST", "/graphql", body=query, ctx=ctx, headers={"authorization": f"Bearer {key}"}
    )
    assert status == 200 and json.loads(body) == {"data": {"me": {"email": "dev@example.com"}}}
    status, _, body = call(env, "POST", "/graphql", body=b"nope", headers={"x-api-key": key})
    assert status == 400


def test_events_route(env: FakeEnv) -> None:
    batch = json.dumps([{"event": "a", "timestamp": 1}, {"event": "b"}]).encode()
    status, _, body = call(env, "POST", "/events", body=batch)
    result = json.loads(body)
    assert status == 200 and result["processed"] == 1 and result["errors"][0]["index"] == 1
    assert isinstance(result["timestamp"], int)
    status, _, body = call(env, "POST", "/api/events", body=b'{"event": ""}')
    assert status == 400 and json.loads(body)["processed"] == 0
    status, _, body = call(env, "POST", "/events", body=b"x" * (1024 * 1024 + 1))
    assert status == 413
    status, _, _ = call(env, "POST", "/events", body=b"[]", headers={"x-api-key": "iui_bad"})
    assert status == 401


def test_events_over_the_tier_limit_are_429(env: FakeEnv) -> None:
    env.TIER_LIMITS = '{"free": {"events": 1}}'
    key = asyncio.run(_key(env))
    one = b'{"event": "e", "timestamp": 1}'
    assert call(env, "POST", "/events", body=one, headers={"x-api-key": key})[0] == 200
    status, _, body = call(env, "POST", "/events", body=one, headers={"x-api-key": key})
    assert status == 429 and json.loads(body)["tier"] == "free"


def test_stream_proxy_forwards_and_relays_chunk_by_chunk(env: FakeEnv) -> None:
    chunks = [b'data: {"type":"message-start"}\n\n', b'data: {"type":"done"}\n\n']
    env.STREAMING = FakeStreaming(chunks)
    key = asyncio.run(_key(env))
    payload = b'{"messages": []}'
    status, headers, got = asyncio.run(
        call_asgi(
            APP,
            "POST",
            "/stream/chat?x=1",
            env=env,
            body=payload,
            headers={
                "content-type": "application/json",
                "x-api-key": key,
                "x-inference-user-id": "spoofed",
            },
        )
    )
    assert status == 200 and got == chunks  # the same chunks, not one buffered blob
    assert headers["content-type"] == "text/event-stream"
    assert headers["access-control-allow-origin"] == "*"
    assert "content-length" not in headers
    forwarded = env.STREAMING.calls[0]
    assert forwarded["url"] == "http://localhost:8787/chat?x=1"
    assert forwarded["method"] == "POST" and forwarded["body"] == payload
    assert "x-api-key" not in forwarded["headers"]
    user = asyncio.run(keys.authenticate(env.DB, key))
    assert user is not None
    assert forwarded["headers"]["x-inference-user-id"] == user.user_id
    assert env.STREAMING.closed


def test_stream_proxy_anonymous_and_api_prefix(env: FakeEnv) -> None:
    env.STREAMING = FakeStreaming([b"{}"], status=400, content_type="application/json")
    status, _, body = call(
        env,
        "POST",
        "/api/stream/completion",
        body=b"{}",
        headers={"x-inference-user-id": "spoofed"},
    )
    assert status == 400 and body == b"{}"
    forwarded = env.STREAMING.calls[0]
    assert forwarded["url"] == "http://localhost:8787/completion"
    assert "x-inference-user-id" not in forwarded["headers"]


def test_stream_proxy_ai_quota(env: FakeEnv) -> None:
    env.TIER_LIMITS = {"free": {"aiRequests": 0}}
    env.STREAMING = FakeStreaming([])
    key = asyncio.run(_key(env))
    status, _, body = call(env, "POST", "/stream/chat", body=b"{}", headers={"x-api-key": key})
    assert status == 429 and "AI request limit" in json.loads(body)["error"]
    assert env.STREAMING.calls == []


def test_stream_proxy_turns_a_runtime_failure_into_json(env: FakeEnv) -> None:
    message = b'Worker "inference-ui-streaming" not found. Make sure it is running locally.'
    env.STREAMING = FakeStreaming([message], status=503, content_type="text/plain;charset=UTF-8")
    status, headers, body = call(
        env, "POST", "/stream/chat", body=b"{}", headers={"accept": "text/html"}
    )
    assert status == 503 and headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "error": "The streaming service is unavailable",
        "detail": message.decode(),
    }
    assert env.STREAMING.calls[0]["headers"]["accept"] == "text/event-stream, application/json"


def test_a_stream_broken_upstream_ends_with_an_error_event(env: FakeEnv) -> None:
    class Broken(FakeStreaming):
        async def fetch(
            self, url: str, *, method: str, headers: dict[str, str], body: Any
        ) -> Response:
            async def stream() -> AsyncIterator[bytes]:
                yield b'data: {"type":"message-start"}\n\n'
                raise ConnectionResetError("streaming worker went away")

            return FetchResponse(stream(), headers={"content-type": "text/event-stream"})

    env.STREAMING = Broken([])
    status, _, body = call(env, "POST", "/stream/chat", body=b"{}")
    assert status == 200
    assert body.endswith(b'"The streaming service failed mid-stream"}}\n\n')
