"""Binding calls as child spans: the proxy (on a real KV binding and a stand-in AI at the
seam), and a real `wranglerpy dev` whose KV and D1 calls reach an OTLP collector as children
of the request's span."""

from __future__ import annotations

import asyncio
import contextvars
from pathlib import Path
from typing import Any

import pytest

from tests.tracing.test_otlp import collector, wait_for_spans  # noqa: F401
from wranglerpy.runtime import tracing
from wranglerpy.testing.dev_server import DevServer
from wranglerpy.tracing.binding_spans import Traced
from wranglerpy.tracing.spans import spans_from_event

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class FakeAI:
    """Stands in for env.AI at the seam: answers with Workers AI's usage shape."""

    async def run(self, model: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"response": "hi", "usage": {"prompt_tokens": 7, "completion_tokens": 3}}


def test_awaited_calls_become_children(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from wranglerpy.bindings.kv import KVNamespaceBinding

    monkeypatch.setattr(tracing, "EXPORTING", True)

    async def call() -> list[dict[str, Any]]:
        span = tracing.enter(CALLER)
        kv = Traced(KVNamespaceBinding(tmp_path / "kv"), "KV", "CACHE")
        ai = Traced(FakeAI(), "AI", "AI")
        await kv.put("k", "v")
        assert await kv.get("k") == "v"
        await ai.run("@cf/meta/llama-3.1-8b-instruct", {"prompt": "x"})
        kv._target.close()
        event = {"type": "request", "worker": "w", "trace": span.trace_id, "span": span.span_id,
                 "start_ns": 1, "duration_ms": 1, "child_spans": tracing.children()}  # fmt: skip
        return [vars(s) for s in spans_from_event(event)]

    spans = contextvars.Context().run(asyncio.run, call())
    request, *children = spans
    assert [c["name"] for c in children] == ["KV put", "KV get", "AI run"]
    assert all(c["parent_id"] == request["span_id"] for c in children)
    assert children[2]["attributes"]["gen_ai.usage.output_tokens"] == 3
    assert children[2]["attributes"]["gen_ai.request.model"] == "@cf/meta/llama-3.1-8b-instruct"


CONFIG = """
name = "traced-store"
main = "src/entry.py"
compatibility_date = "2025-09-01"
compatibility_flags = ["python_workers"]

[[kv_namespaces]]
binding = "KV"

[[d1_databases]]
binding = "DB"
"""

WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        await self.env.KV.put("k", "v")
        value = await self.env.KV.get("k")
        rows = await self.env.DB.prepare("SELECT ?1 AS x").bind(1).all()
        return Response(value)
"""


@pytest.mark.integration
def test_kv_and_d1_calls_are_children_of_the_request(tmp_path: Path, collector: str) -> None:  # noqa: F811
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(WORKER)
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector}
    with DevServer(
        tmp_path / "wrangler.toml", cwd=tmp_path, environ=environ, extra_args=["--no-services"]
    ) as dev:
        reply = dev.client().get("/", headers={"traceparent": CALLER})
        assert reply.text == "v"
        spans = [span for _, span in wait_for_spans("4bf92f3577b34da6a3ce929d0e0e4736", 4)]
    request = next(s for s in spans if s.name == "GET /")
    children = [s for s in spans if s.parent_span_id == request.span_id]
    assert [s.name for s in children] == ["KV put", "KV get", "D1 all"]
    assert all(s.trace_id == request.trace_id for s in children)
