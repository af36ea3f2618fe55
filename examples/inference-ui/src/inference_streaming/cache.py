"""A KV cache of deterministic answers (explicit temperature 0), shared by both workers' KV."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from inference_streaming.requests import GenerationRequest

CACHE_TTL_SECONDS = 3600
KEY_PREFIX = "ai-cache:v1:"


def cache_key(request: GenerationRequest) -> str:
    identity = {
        "endpoint": request.endpoint,
        "model": request.model,
        "messages": request.messages,
        "maxTokens": request.max_tokens,
        "schema": request.schema,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return KEY_PREFIX + digest


async def lookup(kv: Any, request: GenerationRequest) -> str | None:
    if not request.deterministic:
        return None
    entry = await kv.get(cache_key(request), "json")
    if isinstance(entry, dict) and isinstance(entry.get("text"), str):
        return str(entry["text"])
    return None


async def store(kv: Any, request: GenerationRequest, text: str, created_at: int) -> None:
    if not request.deterministic:
        return
    value = json.dumps({"text": text, "model": request.model, "createdAt": created_at})
    await kv.put(cache_key(request), value, expirationTtl=CACHE_TTL_SECONDS)
