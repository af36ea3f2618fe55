"""Export spans over OTLP/HTTP (protobuf) to any OpenTelemetry collector.

Configured the OpenTelemetry way: ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (the full URL) or
``OTEL_EXPORTER_OTLP_ENDPOINT`` (``/v1/traces`` is appended), ``OTEL_EXPORTER_OTLP_HEADERS``
(``key=value,...``). The exporter subscribes to the log hub of ``dev`` or the edge, turns each
finished call into a span and posts them in batches from a background task, so no worker
waits on the collector. Needs the ``otel`` extra (``opentelemetry-proto``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from wranglerpy.tracing.spans import Span, spans_from_event

if TYPE_CHECKING:
    import httpx

BATCH = 512
INTERVAL_S = 1.0
MAX_QUEUE = 10_000
SCOPE = "wranglerpy"


def endpoint_from_env(environ: Mapping[str, str] = os.environ) -> str | None:
    full = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if full:
        return full
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return base.rstrip("/") + "/v1/traces" if base else None


def headers_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    raw = environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or environ.get(
        "OTEL_EXPORTER_OTLP_HEADERS", ""
    )
    pairs = (item.partition("=") for item in raw.split(",") if "=" in item)
    return {unquote(k.strip()): unquote(v.strip()) for k, _, v in pairs}


def encode(spans: list[Span]) -> bytes:
    """An ``ExportTraceServiceRequest``: one resource (``service.name``) per worker."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
    from opentelemetry.proto.trace.v1.trace_pb2 import Status

    def value(v: str | int | float) -> AnyValue:
        if isinstance(v, int):
            return AnyValue(int_value=v)
        if isinstance(v, float):
            return AnyValue(double_value=v)
        return AnyValue(string_value=v)

    request = ExportTraceServiceRequest()
    by_service: dict[str, list[Span]] = {}
    for span in spans:
        by_service.setdefault(span.service, []).append(span)
    for service, group in by_service.items():
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.append(
            KeyValue(key="service.name", value=AnyValue(string_value=service))
        )
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = SCOPE
        for span in group:
            proto = scope_spans.spans.add()
            proto.trace_id = bytes.fromhex(span.trace_id)
            proto.span_id = bytes.fromhex(span.span_id)
            if span.parent_id:
                proto.parent_span_id = bytes.fromhex(span.parent_id)
            proto.name = span.name
            proto.kind = ProtoSpan.SPAN_KIND_SERVER
            proto.start_time_unix_nano = span.start_ns
            proto.end_time_unix_nano = span.end_ns
            proto.attributes.extend(
                KeyValue(key=k, value=value(v)) for k, v in span.attributes.items()
            )
            for trace_id, span_id in span.links:
                link = proto.links.add()
                link.trace_id = bytes.fromhex(trace_id)
                link.span_id = bytes.fromhex(span_id)
            proto.status.code = Status.STATUS_CODE_ERROR if span.error else Status.STATUS_CODE_OK
    return bytes(request.SerializeToString())


class OtlpExporter:
    """A log-hub subscriber that batches spans and posts them from a background task."""

    def __init__(
        self,
        endpoint: str,
        headers: Mapping[str, str] | None = None,
        *,
        warn: Callable[[str], None] = lambda message: None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._headers = {"content-type": "application/x-protobuf", **(headers or {})}
        self._warn = warn
        self._transport = transport
        self._queue: list[Span] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._failed = False
        self.exported = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> OtlpExporter:
        self._task = asyncio.ensure_future(self._run())
        return self

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("type") != "request" or len(self._queue) >= MAX_QUEUE:
            return
        self._queue.extend(spans_from_event(event))
        if len(self._queue) >= BATCH:
            self._wake.set()

    async def _run(self) -> None:
        import httpx  # here: `dev` imports this module at every start, export or not

        async with httpx.AsyncClient(transport=self._transport, timeout=10.0) as client:
            while not self._closing or self._queue:
                if not self._closing:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), INTERVAL_S)
                    self._wake.clear()
                batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
                if batch:
                    await self._post(client, batch)

    async def _post(self, client: httpx.AsyncClient, batch: list[Span]) -> None:
        import httpx

        try:
            response = await client.post(
                self.endpoint, content=encode(batch), headers=self._headers
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            if not self._failed:  # once, not per batch: the collector may come up later
                self._warn(f"▲ OTLP export to {self.endpoint} failed ({exc}); spans are dropped")
            self._failed = True
            return
        self._failed = False
        self.exported += len(batch)

    async def close(self) -> None:
        """Post what is queued, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 15.0)
