"""The SSE protocol around a generation: start, parts as they come, end, done (or error).

Text comes from ``env.AI.run(..., stream=True)``; objects from schema-constrained generation
checked by ``repair``. Closing the generator (a client that went away) closes the AI stream,
which stops generation; usage is recorded either way, after the response, via waitUntil.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from inference_common.clock import new_id, now_ms
from inference_streaming import cache, sse
from inference_streaming.gate import GenerationGate
from inference_streaming.repair import repair
from inference_streaming.requests import GenerationRequest
from inference_streaming.usage import Usage, estimate_tokens, record

MAX_OBJECT_ATTEMPTS = 2
Producer = Callable[[Any, GenerationRequest, Usage], AsyncIterator[str]]


class ObjectGenerationError(Exception):
    """The model's answers could not be made valid against the schema."""


async def _close(stream: Any) -> None:
    for name in ("aclose", "cancel", "close"):
        method = getattr(stream, name, None)
        if method is not None:
            result = method()
            if hasattr(result, "__await__"):
                await result
            return


def _ai_options(request: GenerationRequest, **extra: Any) -> dict[str, Any]:
    return {
        "messages": request.messages,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        **extra,
    }


def _apply_usage(usage: Usage, reported: Any) -> None:
    if isinstance(reported, Mapping):
        usage.prompt_tokens = int(reported.get("prompt_tokens") or usage.prompt_tokens)
        usage.completion_tokens = int(reported.get("completion_tokens") or usage.completion_tokens)


async def ai_text(env: Any, request: GenerationRequest, usage: Usage) -> AsyncIterator[str]:
    """Text deltas from a streaming ``env.AI.run``."""
    stream = await env.AI.run(request.model, _ai_options(request, stream=True))
    if isinstance(stream, Mapping):  # a model that answered without streaming
        _apply_usage(usage, stream.get("usage"))
        if isinstance(stream.get("response"), str) and stream["response"]:
            yield stream["response"]
        return
    parser = sse.AIStreamParser()
    try:
        async for chunk in stream:
            for delta in parser.feed(chunk):
                yield delta
            if parser.finished:
                break
        for delta in parser.close():
            yield delta
    finally:
        await _close(stream)
    _apply_usage(usage, parser.usage)


async def generate_object(env: Any, request: GenerationRequest, usage: Usage) -> Any:
    """A value valid against ``request.schema``, or ObjectGenerationError."""
    schema = request.schema
    assert schema is not None
    messages = [
        {
            "role": "system",
            "content": "Answer with a single JSON value and nothing else. It must "
            "validate against this JSON Schema:\n" + json.dumps(schema),
        },
        *request.messages,
    ]
    problem = "no answer"
    for _attempt in range(MAX_OBJECT_ATTEMPTS):
        result = await env.AI.run(
            request.model,
            {
                "messages": messages,
                "max_tokens": request.max_tokens,
                "temperature": request.temperature,
                "response_format": {"type": "json_schema", "json_schema": schema},
            },
        )
        answer = result.get("response") if isinstance(result, Mapping) else result
        if isinstance(result, Mapping):
            _apply_usage(usage, result.get("usage"))
        value, reason = repair(answer, schema)
        if reason is None:
            return value
        problem = reason
        shown = answer if isinstance(answer, str) else json.dumps(answer)
        messages = [
            *messages,
            {"role": "assistant", "content": shown},
            {
                "role": "user",
                "content": f"That JSON is not valid ({reason}). "
                "Answer again with corrected JSON only.",
            },
        ]
    raise ObjectGenerationError(
        f"could not generate JSON valid against the schema after {MAX_OBJECT_ATTEMPTS} "
        f"attempts: {problem}"
    )


async def ai_object(env: Any, request: GenerationRequest, usage: Usage) -> AsyncIterator[str]:
    value = await generate_object(env, request, usage)
    yield json.dumps(value, ensure_ascii=False)


def _end_metadata(request: GenerationRequest, text: str, usage: Usage) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "model": request.model,
        "cached": usage.cached,
        "usage": {"promptTokens": usage.prompt_tokens, "completionTokens": usage.completion_tokens},
    }
    if request.endpoint == "object":
        metadata["object"] = json.loads(text)
    return metadata


async def _gated(gate: GenerationGate | None, source: AsyncIterator[str]) -> AsyncIterator[str]:
    """``source`` run inside a place of ``gate`` (queued until a running slot is free)."""
    try:
        if gate is None:
            async for item in source:
                yield item
            return
        async with gate.place():
            async for item in source:
                yield item
    finally:
        # `async for` never closes what it iterates; closing stops the AI stream at once.
        await _close(source)


async def events(
    env: Any,
    ctx: Any,
    request: GenerationRequest,
    user_id: str | None,
    producer: Producer,
    gate: GenerationGate | None = None,
) -> AsyncIterator[bytes]:
    """The whole SSE answer for one request."""
    message_id = new_id()
    started = time.perf_counter()
    usage = Usage(
        endpoint=request.endpoint,
        model=request.model,
        user_id=user_id,
        created_at=now_ms(),
        prompt_tokens=estimate_tokens("".join(m["content"] for m in request.messages)),
    )
    finished = False
    yield sse.message_start(
        message_id,
        {"model": request.model, "chatId": request.chat_id, "endpoint": request.endpoint},
    )
    try:
        pieces: list[str] = []
        cached = await _cached(env, request)
        source = (
            _once(cached) if cached is not None else _gated(gate, producer(env, request, usage))
        )
        usage.cached = cached is not None
        try:
            async for delta in source:
                if usage.first_token_ms is None:
                    usage.first_token_ms = round((time.perf_counter() - started) * 1000)
                pieces.append(delta)
                yield sse.message_part(delta)
        finally:
            await _close(source)
        text = "".join(pieces)
        usage.status, finished = "ok", True
        if not usage.completion_tokens:
            usage.completion_tokens = estimate_tokens(text)
        if not usage.cached and text:
            ctx.waitUntil(cache.store(env.KV, request, text, usage.created_at))
        yield sse.message_end(message_id, text, now_ms(), _end_metadata(request, text, usage))
        yield sse.done()
    except Exception as exc:  # noqa: BLE001 - any failure becomes the protocol's error event
        finished = True
        usage.status = "error"
        print(f"{request.endpoint} generation failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        yield sse.error(str(exc) or type(exc).__name__)
    finally:
        if not finished:
            usage.status = "aborted"
        usage.duration_ms = round((time.perf_counter() - started) * 1000)
        ctx.waitUntil(record(env, usage))


async def _cached(env: Any, request: GenerationRequest) -> str | None:
    """The cached answer, if any; a failing cache only costs the cache, never the answer."""
    try:
        return await cache.lookup(env.KV, request)
    except Exception as exc:  # noqa: BLE001
        print(f"KV cache lookup failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


async def _once(text: str) -> AsyncIterator[str]:
    yield text


PRODUCERS: dict[str, Producer] = {"chat": ai_text, "completion": ai_text, "object": ai_object}
