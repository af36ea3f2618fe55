"""Text generation through the AI binding (``env.AI.run``), shaped as OpenAI answers: whole
completions, or chunk streams made from the binding's own SSE stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from wranglerpy.services.openai.wire import DONE, event


def plain(value: Any) -> Any:
    """A binding result (JSObjects) as plain JSON values."""
    if hasattr(value, "to_py"):
        value = value.to_py()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class StopScanner:
    """Cuts generated text at the first stop sequence, holding back just enough characters
    to see a sequence that spans two pieces."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = stops
        self.hold = max((len(s) for s in stops), default=1) - 1
        self.buffer = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self.buffer += piece
        hits = [i for i in (self.buffer.find(s) for s in self.stops) if i >= 0]
        if hits:
            self.stopped = True
            out, self.buffer = self.buffer[: min(hits)], ""
            return out
        cut = len(self.buffer) - self.hold
        if cut <= 0:
            return ""
        out, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return out

    def flush(self) -> str:
        out, self.buffer = self.buffer, ""
        return out


def finish_reason(usage: dict[str, Any], max_tokens: int, stopped: bool) -> str:
    if not stopped and usage.get("completion_tokens", 0) >= max_tokens:
        return "length"
    return "stop"


async def complete(
    run: Callable[..., Any], model: str, inputs: dict[str, Any], stops: list[str]
) -> tuple[str, dict[str, Any], str]:
    """``(text, usage, finish_reason)`` of one whole generation."""
    result = plain(await run(model, inputs))
    response = result.get("response")
    text = response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)
    scanner = StopScanner(stops)
    if stops:
        text = scanner.feed(text) + scanner.flush()
    usage = result.get("usage") or {}
    return text, usage, finish_reason(usage, inputs["max_tokens"], scanner.stopped)


async def pieces(stream: Any) -> AsyncIterator[tuple[str, dict[str, Any] | None]]:
    """``(text piece, usage or None)`` from the binding's SSE stream."""
    pending = b""
    async for raw in stream:
        pending += raw
        while b"\n\n" in pending:
            block, pending = pending.split(b"\n\n", 1)
            for line in block.decode("utf-8").splitlines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                payload = json.loads(data)
                yield str(payload.get("response") or ""), payload.get("usage")


async def stream_chunks(
    run: Callable[..., Any],
    model: str,
    inputs: dict[str, Any],
    stops: list[str],
    chunk: Callable[[str | None, str | None], dict[str, Any]],
    usage_chunk: Callable[[dict[str, Any]], dict[str, Any]] | None,
) -> AsyncIterator[bytes]:
    """OpenAI's SSE: ``chunk(text, None)`` per piece, ``chunk(None, finish_reason)`` last, then
    the usage chunk when asked for, then ``[DONE]``. Leaving early stops the generation."""
    stream = await run(model, {**inputs, "stream": True})
    scanner = StopScanner(stops)
    usage: dict[str, Any] = {}
    try:
        async for piece, used in pieces(stream):
            if used:
                usage = used
            text = scanner.feed(piece)
            if text:
                yield event(chunk(text, None))
            if scanner.stopped:
                break
    finally:
        await stream.aclose()
    rest = scanner.flush()
    if rest:
        yield event(chunk(rest, None))
    yield event(chunk(None, finish_reason(usage, inputs["max_tokens"], scanner.stopped)))
    if usage_chunk is not None:
        yield event(usage_chunk(usage))
    yield DONE
