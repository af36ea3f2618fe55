"""Traces through Durable Object calls and queue messages, and streamed AI answers as spans.

A real ``wranglerpy dev`` exports to the in-process OTLP collector of ``test_otlp``: a request
that calls a Durable Object (in its own process, and in another worker's process through the
wire's Durable Object frame) is one trace with the object's event as a child span; a message
sent while handling a request is consumed in a batch whose span continues the sender's trace,
and ``wranglerpy tail`` of the consumer shows that same trace id."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.tracing.test_otlp import collector, wait_for_spans  # noqa: F401
from tests.waits import wait_until
from wranglerpy.logs.tail_format import to_tail_event
from wranglerpy.runtime import tracing
from wranglerpy.testing.dev_server import DevServer
from wranglerpy.tracing.binding_spans import Traced, TracedStream
from wranglerpy.tracing.spans import spans_from_event

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
CALLER = f"00-{TRACE}-{CALLER_SPAN}-01"

COUNTER = """
from workers import DurableObject, Response, WorkerEntrypoint


class Counter(DurableObject):
    async def hit(self):
        total = (self.ctx.storage.kv.get("total") or 0) + 1
        self.ctx.storage.kv.put("total", total)
        return total


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(str(await self.env.COUNTER.getByName("c").hit()))
"""

FRONT = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        total = await self.env.COUNTER.getByName("c").hit()  # another worker's class
        await self.env.JOBS.send({"total": total})
        return Response(str(total))
"""

CONSUMER = """
async def on_queue(batch, env):
    for message in batch.messages:
        message.ack()
"""


def project(root: Path) -> list[Path]:
    files = {
        "counter/entry.py": COUNTER,
        "counter/wrangler.toml": 'name = "t-counter"\nmain = "entry.py"\n\n'
        '[[durable_objects.bindings]]\nname = "COUNTER"\nclass_name = "Counter"\n\n'
        '[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Counter"]\n',
        "front/entry.py": FRONT,
        "front/wrangler.toml": 'name = "t-front"\nmain = "entry.py"\n\n'
        '[[durable_objects.bindings]]\nname = "COUNTER"\nclass_name = "Counter"\n'
        'script_name = "t-counter"\n\n[[queues.producers]]\nbinding = "JOBS"\nqueue = "t-jobs"\n',
        "consumer/entry.py": CONSUMER,
        "consumer/wrangler.toml": 'name = "t-consumer"\nmain = "entry.py"\n\n'
        '[[queues.consumers]]\nqueue = "t-jobs"\nmax_batch_size = 1\nmax_batch_timeout = 0\n',
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return [root / d / "wrangler.toml" for d in ("counter", "front", "consumer")]


class Tail:
    """A ``wranglerpy tail`` subscription to the dev session's tail socket, in a thread: the
    protocol's ``hello`` says the subscription is in place, so no event can be missed (the CLI
    prints its notice before it connects). Events become what the CLI prints as JSON."""

    def __init__(self, dev: DevServer, worker: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(dev.workers[worker].tail)
        self.sock.sendall(json.dumps({"workers": [worker]}).encode() + b"\n")
        self.lines = self.sock.makefile("rb")
        assert json.loads(self.lines.readline()) == {"type": "hello"}
        self.events: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            for line in self.lines:
                self.events.append(to_tail_event(json.loads(line)))

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@pytest.mark.integration
def test_one_trace_through_durable_objects_and_a_queue(tmp_path: Path, collector: str) -> None:  # noqa: F811
    configs = project(tmp_path)
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector}
    with DevServer(*configs, cwd=tmp_path, environ=environ) as dev:
        tail = Tail(dev, "t-consumer")
        try:
            reply = dev.client("t-front").get("/", headers={"traceparent": CALLER})
            assert reply.status_code == 200, reply.text
            # front's request, the object's event (in t-counter's process), the queue batch.
            spans = wait_for_spans(TRACE, 3)
            wait_until(lambda: any(e.get("trace") == TRACE for e in tail.events), "the tail")
        finally:
            tail.close()
        local = dev.client("t-counter").get("/")  # the object in the caller's own process
        assert local.status_code == 200
    by_name = {span.name: (service, span) for service, span in spans}
    _, request = by_name["GET /"]
    service, event = by_name["DO Counter.hit"]
    assert service == "t-counter"
    assert request.parent_span_id.hex() == CALLER_SPAN
    assert event.parent_span_id == request.span_id  # across processes, over the wire
    service, batch = by_name["QUEUE t-jobs"]
    assert service == "t-consumer"
    assert batch.parent_span_id == request.span_id  # the sender's span
    attributes = {a.key: a.value for a in batch.attributes}
    assert attributes["messaging.batch.message_count"].int_value == 1


class FakeStream:
    """Stands in for the AI binding's SSE stream at the seam (the shape of ai/binding.py's
    ``AIStream``: one event per piece, then ``usage``, then ``[DONE]``)."""

    locked = False

    def __init__(self) -> None:
        self._chunks = iter(
            [
                b'data: {"response": "Hel"}\n\n',
                b'data: {"response": "lo"}\n\n',
                b'data: {"response": "", "usage": {"prompt_tokens": 5, "completion_tokens": 2,'
                b' "total_tokens": 7}}\n\n',
                b"data: [DONE]\n\n",
            ]
        )

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None


class FakeAI:
    async def run(self, model: str, inputs: dict[str, Any]) -> FakeStream:
        return FakeStream()


def test_a_streamed_answer_is_one_span_with_time_to_first_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tracing, "EXPORTING", True)

    async def call() -> list[dict[str, Any]]:
        span = tracing.enter(CALLER)
        ai = Traced(FakeAI(), "AI", "AI")
        stream = await ai.run("@cf/meta/llama-3.1-8b-instruct", {"prompt": "x", "stream": True})
        assert isinstance(stream, TracedStream)
        assert tracing.children() == []  # the span ends with the stream, not with run()
        assert (await stream.read_all()).endswith(b"data: [DONE]\n\n")
        event = {"type": "request", "worker": "w", "trace": span.trace_id, "span": span.span_id,
                 "start_ns": 1, "duration_ms": 1, "child_spans": tracing.children()}  # fmt: skip
        return [vars(s) for s in spans_from_event(event)]

    _, answer = contextvars.Context().run(asyncio.run, call())
    assert answer["name"] == "AI run"
    attributes = answer["attributes"]
    assert attributes["gen_ai.usage.input_tokens"] == 5
    assert attributes["gen_ai.usage.output_tokens"] == 2
    ttft = attributes["gen_ai.server.time_to_first_token"]
    assert isinstance(ttft, float) and 0 <= ttft <= (answer["end_ns"] - answer["start_ns"]) / 1e9


def test_nested_span_continues_the_current_one_and_restores_it() -> None:
    async def call() -> None:
        outer = tracing.enter(CALLER)
        nested = tracing.Nested()
        assert nested.span.parent_id == outer.span_id and nested.span.trace_id == TRACE
        assert tracing.outgoing() == nested.span.traceparent
        nested.close()
        assert tracing.outgoing() == outer.traceparent
        with tracing.caller(CALLER):
            assert tracing.Nested().span.parent_id == CALLER_SPAN
        fresh = tracing.Nested("not a traceparent")
        assert fresh.span.trace_id != TRACE and fresh.span.parent_id is None

    contextvars.Context().run(asyncio.run, call())
