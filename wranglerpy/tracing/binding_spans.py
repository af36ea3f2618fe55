"""Child spans for binding calls (KV, D1, R2, Analytics Engine, AI), when spans are exported.

The worker process wraps its storage and AI bindings as it builds ``env`` (only when an OTLP
endpoint is configured, so nothing changes otherwise): every call that returns an awaitable
is timed and recorded under the current call's span; objects a binding hands out for further
calls (a D1 statement) are wrapped too. The records travel in the request event and become
child spans in the parent's exporter. A streamed AI answer's span lasts until its stream ends,
with the time to its first token and its token counts (``TracedStream``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable
from typing import Any

from wranglerpy.runtime import tracing
from wranglerpy.runtime.binding_proxy import BindingProxy, handed_out

LABELS = {
    "kv_namespaces": "KV",
    "d1_databases": "D1",
    "r2_buckets": "R2",
    "analytics_engine_datasets": "AnalyticsEngine",
    "ai": "AI",
}


def _usage(result: Any) -> dict[str, int]:
    """Token counts of an AI answer (``usage``), as OpenTelemetry's gen_ai attributes."""
    try:
        usage = result["usage"]
        return {
            "gen_ai.usage.input_tokens": int(usage["prompt_tokens"]),
            "gen_ai.usage.output_tokens": int(usage["completion_tokens"]),
        }
    except (KeyError, TypeError, ValueError):
        return {}


class Traced(BindingProxy):
    """A binding (or an object it handed out) whose awaited calls become child spans."""

    __slots__ = ("_label", "_binding")

    def __init__(self, target: Any, label: str, binding: str) -> None:
        super().__init__(target)
        self._label = label
        self._binding = binding

    def __repr__(self) -> str:
        return repr(self._target)

    def _wrap(self, target: Any) -> Traced:
        return Traced(target, self._label, self._binding)

    async def _around(self, method: str, args: tuple[Any, ...], awaitable: Awaitable[Any]) -> Any:
        attributes: dict[str, str | int | float] = {"wranglerpy.binding": self._binding}
        if self._label == "AI" and args and isinstance(args[0], str):
            attributes["gen_ai.request.model"] = args[0]
        start = time.time_ns()
        error = False
        try:
            result = await awaitable
        except BaseException:
            error = True
            raise
        finally:
            end = time.time_ns()
            streamed = not error and self._label == "AI" and _is_stream(result)
            if not error and self._label == "AI" and not streamed:
                attributes.update(_usage(result))
            if not streamed:
                tracing.record_child(f"{self._label} {method}", start, end, attributes, error)
        if streamed:
            return TracedStream(result, f"{self._label} {method}", start, attributes)
        if handed_out(result):
            return self._wrap(result)
        return result


def trace_bindings(bindings: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    """``bindings`` with each storage/AI binding wrapped (others unchanged)."""
    return {
        name: Traced(binding, LABELS[kinds[name]], name) if kinds.get(name) in LABELS else binding
        for name, binding in bindings.items()
    }


def _is_stream(value: Any) -> bool:
    return hasattr(type(value), "__anext__")


class TracedStream:
    """A streamed AI answer (server-sent events) whose span ends with the stream: it records
    the time to the first token (``gen_ai.server.time_to_first_token``, seconds, as
    OpenTelemetry's metric of that name) and the token counts of the last event's ``usage``.
    The span goes to the call that made it, even when the stream is read after it returned."""

    def __init__(
        self, stream: Any, name: str, start_ns: int, attributes: dict[str, str | int | float]
    ) -> None:
        self._stream = stream
        self._name = name
        self._start = start_ns
        self._attributes = attributes
        self._children = tracing.children()
        self._done = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)  # ``locked``, ...

    def __aiter__(self) -> TracedStream:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk: bytes = await self._stream.__anext__()
        except StopAsyncIteration:
            self._end(error=False)
            raise
        except BaseException:
            self._end(error=True)
            raise
        first = "gen_ai.server.time_to_first_token" not in self._attributes
        if first and chunk.startswith(b"data: {") and b'"response": ""' not in chunk:
            seconds = (time.time_ns() - self._start) / 1e9
            self._attributes["gen_ai.server.time_to_first_token"] = seconds
        if b'"usage"' in chunk:
            self._read_usage(chunk)
        return chunk

    def _read_usage(self, chunk: bytes) -> None:
        for line in chunk.decode(errors="replace").splitlines():
            if line.startswith("data: {"):
                try:
                    self._attributes.update(_usage(json.loads(line[6:])))
                except ValueError:
                    pass

    def _end(self, error: bool) -> None:
        if not self._done:
            self._done = True
            end = time.time_ns()
            tracing.record_child(
                self._name, self._start, end, self._attributes, error, self._children
            )

    async def read_all(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        self._end(error=False)
        await self._stream.aclose()

    cancel = aclose
