"""Recording each AI request in D1 (``ai_usage``) and Analytics Engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inference_common.clock import new_id


@dataclass
class Usage:
    endpoint: str
    model: str
    user_id: str | None
    created_at: int
    status: str = "error"  # ok | error | aborted
    cached: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    duration_ms: int = 0
    first_token_ms: int | None = None


def estimate_tokens(text: str) -> int:
    """About four characters a token: used when the model reports no usage."""
    return (len(text) + 3) // 4


async def record(env: Any, usage: Usage) -> None:
    await (
        env.DB.prepare(
            "INSERT INTO ai_usage (id, user_id, endpoint, model, status, cached, prompt_tokens, "
            "completion_tokens, duration_ms, first_token_ms, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        .bind(
            new_id(),
            usage.user_id,
            usage.endpoint,
            usage.model,
            usage.status,
            1 if usage.cached else 0,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.duration_ms,
            usage.first_token_ms,
            usage.created_at,
        )
        .run()
    )
    env.ANALYTICS.writeDataPoint(
        {
            "blobs": [usage.endpoint, usage.model, usage.status, usage.user_id or ""],
            "doubles": [
                float(usage.duration_ms),
                float(usage.first_token_ms if usage.first_token_ms is not None else -1),
                float(usage.prompt_tokens),
                float(usage.completion_tokens),
                1.0 if usage.cached else 0.0,
            ],
            "indexes": [usage.user_id or "anonymous"],
        }
    )
