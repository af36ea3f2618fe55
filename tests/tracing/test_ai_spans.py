"""A streamed answer of the local model under the real ``wranglerpy dev`` with OTLP export on:
the worker hands the AI stream straight to ``Response`` (a ReadableStream on Cloudflare), the
client gets every event, and the collector gets one ``AI run`` span, a child of the request,
with the time to first token and the token counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.tracing.test_otlp import collector, wait_for_spans  # noqa: F401
from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.models import SMOLLM2
from wranglerpy.testing import DevServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{TRACE}-00f067aa0ba902b7-01"

WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        stream = await self.env.AI.run(
            "@cf/meta/llama-3.1-8b-instruct",
            messages=[{"role": "user", "content": "What is a service binding?"}],
            max_tokens=8, temperature=0, stream=True,
        )
        return Response(stream, headers={"content-type": "text/event-stream"})
"""


def test_a_streamed_answer_is_one_span_with_time_to_first_token(
    tmp_path: Path,
    collector: str,  # noqa: F811
) -> None:
    cache = ModelCache()
    if not cache.is_cached(SMOLLM2):
        pytest.skip("model not cached; run `wranglerpy ai pull --all`")
    (tmp_path / "entry.py").write_text(WORKER)
    (tmp_path / "wrangler.toml").write_text(
        'name = "ai-traced"\nmain = "entry.py"\n\n[ai]\nbinding = "AI"\n'
    )
    environ = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector,
        "WRANGLERPY_MODEL_CACHE": str(cache.root),
        "WRANGLERPY_AI_HOST": "shared",
        "WRANGLERPY_AI_HOST_IDLE": "2",  # the model host leaves soon after the test
    }
    with DevServer(tmp_path / "wrangler.toml", cwd=tmp_path, environ=environ) as dev:
        reply = dev.client(timeout=120).get("/", headers={"traceparent": CALLER})
        assert reply.status_code == 200, reply.text
        events = [e.removeprefix("data: ") for e in reply.text.split("\n\n") if e]
        assert events[-1] == "[DONE]"
        usage = json.loads(events[-2])["usage"]
        spans = dict((span.name, span) for _, span in wait_for_spans(TRACE, 2))
    request, answer = spans["GET /"], spans["AI run"]
    assert answer.parent_span_id == request.span_id
    attributes = {a.key: a.value for a in answer.attributes}
    assert attributes["gen_ai.usage.input_tokens"].int_value == usage["prompt_tokens"]
    assert attributes["gen_ai.usage.output_tokens"].int_value == usage["completion_tokens"] == 8
    ttft = attributes["gen_ai.server.time_to_first_token"].double_value
    assert 0 < ttft * 1e9 <= answer.end_time_unix_nano - answer.start_time_unix_nano
    assert answer.end_time_unix_nano <= request.end_time_unix_nano  # the stream ends first
