"""The API worker's routes: index, health, GraphQL, events and the stream proxy."""

from __future__ import annotations

from typing import Any, cast

from quart import Blueprint, Response, jsonify, request
from werkzeug.datastructures import Headers

from inference_api import events as event_ingest
from inference_api import graphql_http, proxy
from inference_api.auth import principal_for
from inference_api.errors import ApiError
from inference_common.clock import now_ms
from inference_common.tiers import limits_for
from inference_common.usage import (
    ai_requests_this_month,
    release_ai_request,
    reserve_ai_request,
)

bp = Blueprint("api", __name__)

ENDPOINTS = {
    "health": "GET /health",
    "graphql": "POST /graphql",
    "events": "POST /events",
    "chat": "POST /stream/chat",
    "completion": "POST /stream/completion",
    "object": "POST /stream/object",
    "chatPage": "GET /chat/",
}


def _env() -> Any:
    return cast(dict[str, Any], request.scope)["env"]


class _AfterResponse:
    """``ctx.waitUntil`` for an ASGI app: Cloudflare's ``asgi.fetch`` puts no ``ctx`` in the
    scope, so work after the response goes through ``workers.wait_until``."""

    @staticmethod
    def waitUntil(awaitable: Any) -> None:  # noqa: N802 - the Workers name
        from workers import wait_until

        wait_until(awaitable)


def _ctx() -> Any:
    # A host that passes its own ctx in the scope (the example's unit tests) is used as is.
    return cast(dict[str, Any], request.scope).get("ctx") or _AfterResponse


@bp.get("/")
async def index() -> Any:
    env = _env()
    return jsonify(
        {
            "name": "inference-ui-api",
            "version": str(getattr(env, "API_VERSION", "1.0.0")),
            "environment": str(getattr(env, "ENVIRONMENT", "development")),
            "architecture": "service-bindings",
            "endpoints": ENDPOINTS,
        }
    )


@bp.get("/health")
async def health() -> Any:
    return jsonify({"status": "healthy", "timestamp": now_ms()})


@bp.post("/graphql")
@bp.post("/api/graphql")
async def graphql_endpoint() -> Any:
    env = _env()
    principal = await principal_for(request.headers, env, _ctx(), required=True)
    assert principal is not None
    raw = await request.get_data(cache=False)
    assert isinstance(raw, bytes)
    return jsonify(await graphql_http.execute(raw, env, principal))


@bp.post("/events")
@bp.post("/api/events")
async def events_endpoint() -> Any:
    length = request.content_length
    if length is not None and length > event_ingest.MAX_BODY_BYTES:
        raise ApiError(
            413,
            f"Request body is larger than {event_ingest.MAX_BODY_BYTES} bytes",
            limit=event_ingest.MAX_BODY_BYTES,
        )
    env = _env()
    principal = await principal_for(request.headers, env, _ctx(), required=False)
    raw = await request.get_data(cache=False)
    assert isinstance(raw, bytes)
    events, errors = event_ingest.parse_batch(raw)
    now = now_ms()
    await event_ingest.check_quota(env, principal, len(events), now)
    await event_ingest.store(env, events, principal, now)
    status = 400 if errors and not events else 200
    body: dict[str, Any] = {"processed": len(events), "errors": errors, "timestamp": now}
    if status == 400:
        body["error"] = "No valid events in the request"
    return jsonify(body), status


async def _reserve_ai_request(env: Any, tier: str, user_id: str) -> str | None:
    """Count the request against the tier's monthly quota before any generation starts
    (atomically: concurrent requests cannot all slip under the limit); 429 when it is used
    up. The reservation id, or None for an unlimited tier."""
    limit = limits_for(tier, env).ai_requests_per_month
    if limit is None:
        return None
    now = now_ms()
    reservation = await reserve_ai_request(env.DB, user_id, limit, now)
    if reservation is None:
        used = max(limit, await ai_requests_this_month(env.DB, user_id, now))
        raise ApiError(
            429,
            f"Monthly AI request limit of the {tier} tier reached: {used} of {limit} used",
            tier=tier,
            limit=limit,
            used=used,
        )
    return reservation


@bp.route("/stream/<path:stream_path>", methods=["GET", "POST"])
@bp.route("/api/stream/<path:stream_path>", methods=["GET", "POST"])
async def stream(stream_path: str) -> Any:
    env = _env()
    principal = await principal_for(request.headers, env, _ctx(), required=False)
    reservation = None
    if principal is not None:
        reservation = await _reserve_ai_request(env, principal.tier, principal.user_id)
    # The prompt is a small JSON body: read it whole. A Python async iterator is not a body a
    # Python Worker can send through a service binding on Cloudflare (see proxy.py).
    body = await request.get_data() if request.method not in ("GET", "HEAD") else None
    upstream = await proxy.forward(
        env.STREAMING,
        proxy.target_url(str(request.url), stream_path),
        request.method,
        request.headers.items(),
        body,
        principal,
    )
    content_type = upstream.headers.get("content-type") or ""
    if reservation is not None and upstream.status >= 400:
        # Refused before generating anything (bad input, worker down): not a used request.
        await release_ai_request(env.DB, reservation)
    if not proxy.is_stream_worker_answer(content_type):
        # Not our worker's JSON or SSE: the runtime saying the worker is down or broken.
        detail = (await upstream.text()).strip()[:300]
        raise ApiError(
            upstream.status if upstream.status in (502, 503, 504) else 502,
            "The streaming service is unavailable",
            detail=detail,
        )
    response = Response(
        proxy.relay(upstream.body, sse=content_type.startswith("text/event-stream")),
        status=upstream.status,
        headers=Headers(proxy.response_headers(upstream.headers.items())),
    )
    response.timeout = None  # an SSE answer lasts as long as generation does
    return response
