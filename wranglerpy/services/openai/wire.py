"""OpenAI's JSON shapes: errors, completion objects, stream chunks, server-sent events."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from wranglerpy.services.asgi import Response

JSON = [("Content-Type", "application/json")]
SSE = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]


class OpenAIError(Exception):
    """An error answered as ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.param = param
        self.code = code

    def response(self) -> Response:
        body = {
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        }
        return Response(self.status, list(JSON), json.dumps(body).encode())


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(status, list(JSON), json.dumps(payload, ensure_ascii=False).encode())


def event(payload: Any) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


DONE = b"data: [DONE]\n\n"


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


def now() -> int:
    return int(time.time())
