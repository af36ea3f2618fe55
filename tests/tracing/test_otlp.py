"""Spans from request events, their OTLP encoding, and a real `wranglerpy dev` of two workers
exporting one trace to an in-process OTLP/HTTP collector."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from wranglerpy.cli.init import create_project
from wranglerpy.logs.hub import LogHub
from wranglerpy.testing.dev_server import DevServer
from wranglerpy.tracing.hooks import start_export, stop_export
from wranglerpy.tracing.otlp import OtlpExporter, endpoint_from_env, headers_from_env
from wranglerpy.tracing.spans import from_event

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def event(**extra: Any) -> dict[str, Any]:
    base = {
        "type": "request", "worker": "api", "trace": TRACE, "span": "00f067aa0ba902b7",
        "parent_span": None, "method": "GET", "path": "/x", "url": "http://h/x", "status": 200,
        "outcome": "ok", "start_ns": 1_000_000_000, "duration_ms": 2.5,
    }  # fmt: skip
    return {**base, **extra}


def test_span_from_event() -> None:
    span = from_event(event(caller="gateway", status=503))
    assert span is not None
    assert (span.name, span.service, span.end_ns - span.start_ns) == ("GET /x", "api", 2_500_000)
    assert span.error and span.attributes["wranglerpy.caller"] == "gateway"
    rpc = from_event(event(method="RPC", entrypoint="Admin", rpcMethod="shout"))
    assert rpc is not None and rpc.name == "RPC Admin.shout"
    assert from_event({"type": "log", "message": "hi"}) is None


def test_endpoint_and_headers_from_env() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/",
        "OTEL_EXPORTER_OTLP_HEADERS": "a=1, b=x%20y",
    }
    assert endpoint_from_env(env) == "http://c:4318/v1/traces"
    assert headers_from_env(env) == {"a": "1", "b": "x y"}
    assert endpoint_from_env({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t/x"}) == "http://t/x"
    assert endpoint_from_env({}) is None


async def test_exporter_posts_protobuf_batches() -> None:
    received: list[ExportTraceServiceRequest] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/x-protobuf"
        received.append(ExportTraceServiceRequest.FromString(request.content))
        return httpx.Response(200)

    exporter = OtlpExporter("http://collector/v1/traces", transport=httpx.MockTransport(handler))
    exporter.start()
    exporter(event())
    exporter(event(worker="backend", span="1111111111111111", parent_span="00f067aa0ba902b7"))
    exporter({"type": "system", "message": "not a span"})
    await exporter.close()
    assert exporter.exported == 2
    spans = {
        rs.resource.attributes[0].value.string_value: rs.scope_spans[0].spans[0]
        for request in received
        for rs in request.resource_spans
    }
    assert spans["backend"].parent_span_id == spans["api"].span_id
    assert spans["backend"].trace_id.hex() == TRACE


async def test_no_endpoint_no_exporter() -> None:
    assert start_export(LogHub(), environ={}) is None
    await stop_export(None)


class Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP trace receiver: decodes every export, wakes the test."""

    requests: list[ExportTraceServiceRequest] = []
    arrived = threading.Condition()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["content-length"]))
        with Collector.arrived:
            Collector.requests.append(ExportTraceServiceRequest.FromString(body))
            Collector.arrived.notify_all()
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    Collector.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def received() -> list[tuple[str, Any]]:
    """(service name, span) of everything the collector got so far."""
    return [
        (rs.resource.attributes[0].value.string_value, span)
        for request in Collector.requests
        for rs in request.resource_spans
        for scope in rs.scope_spans
        for span in scope.spans
    ]


def wait_for_spans(trace_id: str, wanted: int) -> list[tuple[str, Any]]:
    """(service, span) of one trace, once ``wanted`` of them arrived (other requests, such as
    the dev server's readiness checks, have traces of their own)."""

    def found() -> list[tuple[str, Any]]:
        return [(svc, span) for svc, span in received() if span.trace_id.hex() == trace_id]

    with Collector.arrived:
        Collector.arrived.wait_for(lambda: len(found()) >= wanted, timeout=60)
    return found()


@pytest.mark.integration
def test_one_trace_across_two_workers(tmp_path: Path, collector: str) -> None:
    folder = tmp_path / "app"
    create_project(folder, "service-bindings", "traced")
    configs = [folder / "wrangler.jsonc", folder / "wrangler-backend.jsonc"]
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector}
    with DevServer(*configs, cwd=folder, environ=environ, extra_args=["--no-services"]) as dev:
        incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        reply = dev.client("traced-gateway").get("/shout", headers={"traceparent": incoming})
        assert reply.status_code == 200, reply.text
        spans = dict(wait_for_spans(TRACE, 2))
    gateway, backend = spans["traced-gateway"], spans["traced-backend"]
    assert gateway.trace_id.hex() == backend.trace_id.hex() == TRACE  # the caller's trace
    assert gateway.parent_span_id.hex() == "00f067aa0ba902b7"
    assert backend.parent_span_id == gateway.span_id  # the RPC hop is a child of the request
    assert (gateway.name, backend.name) == ("GET /shout", "RPC Default.shout")
