"""The Quart application: CORS on every answer, JSON for every error, never a traceback."""

from __future__ import annotations

import sys
import traceback
from typing import Any

from quart import Quart, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from inference_api.errors import ApiError
from inference_api.routes import bp

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, X-API-Key",
    "Access-Control-Max-Age": "86400",
}


def create_app() -> Quart:
    app = Quart("inference_api")
    app.config.update(
        # Preflights are answered for every path below, not per route.
        PROVIDE_AUTOMATIC_OPTIONS=False,
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
        # Streams last as long as generation does; requests are bounded by the runtime.
        RESPONSE_TIMEOUT=None,
        BODY_TIMEOUT=60,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.register_blueprint(bp)

    @app.before_request
    async def preflight() -> Any:
        if request.method == "OPTIONS":
            return Response("", status=204)
        return None

    @app.after_request
    async def cors(response: Response) -> Response:
        for name, value in CORS_HEADERS.items():
            response.headers[name] = value
        return response

    @app.errorhandler(ApiError)
    async def api_error(error: ApiError) -> Any:
        return jsonify(error.body()), error.status, error.headers

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Any:
        body: dict[str, Any] = {"error": error.name, "message": error.description}
        if isinstance(error, NotFound):
            body = {
                "error": "Not found",
                "message": f"No route for {request.method} {request.path}",
                "path": request.path,
            }
        elif isinstance(error, MethodNotAllowed):
            body = {
                "error": "Method not allowed",
                "message": f"{request.method} is not allowed on {request.path}",
                "allowed": sorted(error.valid_methods or []),
            }
        return jsonify(body), error.code or 500

    @app.errorhandler(Exception)
    async def internal_error(error: Exception) -> Any:
        # Logged for `wranglerpy dev`/`tail`; the client learns only that it failed.
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        print(f"Unhandled error on {request.method} {request.path}: {text}", file=sys.stderr)
        return jsonify({"error": "Internal server error"}), 500

    return app
