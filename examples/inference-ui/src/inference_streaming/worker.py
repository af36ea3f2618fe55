"""Routing of the streaming worker: /health, /chat, /completion, /object."""

from __future__ import annotations

import sys
import traceback
from typing import Any
from urllib.parse import urlsplit

from workers import Response

from inference_common.clock import now_ms
from inference_streaming import generate, sse, stream
from inference_streaming.gate import gate_for
from inference_streaming.requests import PARSERS, InvalidRequest

MAX_BODY_BYTES = 1024 * 1024
USER_HEADER = "x-inference-user-id"
CORS_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "Content-Type, Authorization, X-API-Key",
}
ROUTES = {"/health": "GET", "/chat": "POST", "/completion": "POST", "/object": "POST"}


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response.json(body, status=status, headers=CORS_HEADERS)


def _too_large() -> Response:
    return json_response({"error": f"Request body is larger than {MAX_BODY_BYTES} bytes"}, 413)


async def handle(request: Any, env: Any, ctx: Any) -> Response:
    try:
        return await _route(request, env, ctx)
    except Exception as exc:  # noqa: BLE001 - a bug must not reach the client as a traceback
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        print(f"Unhandled error on {request.method} {request.url}: {text}", file=sys.stderr)
        return json_response({"error": "Internal server error"}, 500)


async def _route(request: Any, env: Any, ctx: Any) -> Response:
    path = urlsplit(request.url).path.rstrip("/") or "/"
    if request.method == "OPTIONS":
        return Response(None, status=204, headers=CORS_HEADERS)
    method = ROUTES.get(path)
    if method is None:
        return json_response(
            {
                "error": "Not found",
                "path": path,
                "endpoints": [f"{m} {p}" for p, m in ROUTES.items()],
            },
            404,
        )
    if request.method != method and not (method == "GET" and request.method == "HEAD"):
        return json_response(
            {
                "error": "Method not allowed",
                "message": f"{path} accepts {method} only",
                "allowed": [method],
            },
            405,
        )
    if path == "/health":
        return json_response({"status": "healthy", "worker": "streaming", "timestamp": now_ms()})
    declared = request.headers.get("content-length") or ""
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _too_large()
    raw = await request.bytes()
    if len(raw) > MAX_BODY_BYTES:
        return _too_large()
    endpoint = path.lstrip("/")
    try:
        generation = PARSERS[endpoint](raw)
    except InvalidRequest as exc:
        return json_response({"error": str(exc)}, 400)
    gate = gate_for(env)
    if gate.full():
        return Response.json(
            {
                "error": "Too many generations in progress; retry shortly",
                "running": gate.running,
                "queued": gate.queued,
            },
            status=503,
            headers={**CORS_HEADERS, "retry-after": "1"},
        )
    user_id = request.headers.get(USER_HEADER) or None
    body = generate.events(env, ctx, generation, user_id, generate.PRODUCERS[endpoint], gate)
    return Response(stream.readable(body), headers={**sse.SSE_HEADERS, **CORS_HEADERS})
