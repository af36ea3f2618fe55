"""The few lines ``dev`` and the edge call: export spans when the OpenTelemetry environment
asks for it, stop exporting at exit."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from wranglerpy.logs.hub import LogHub
from wranglerpy.tracing.otlp import OtlpExporter, endpoint_from_env, headers_from_env


def start_export(hub: LogHub, environ: Mapping[str, str] = os.environ) -> OtlpExporter | None:
    """An exporter subscribed to ``hub`` when ``OTEL_EXPORTER_OTLP_*ENDPOINT`` is set."""
    endpoint = endpoint_from_env(environ)
    if endpoint is None:
        return None
    try:
        import opentelemetry.proto  # noqa: F401 - the otel extra
    except ImportError:
        hub.system(
            "▲ OTEL_EXPORTER_OTLP_ENDPOINT is set but the otel extra is missing: "
            "pip install 'wranglerpy[otel]' to export spans",
            level="warn",
        )
        return None
    warn: Callable[[str], None] = lambda message: hub.system(message, level="warn")  # noqa: E731
    exporter = OtlpExporter(endpoint, headers_from_env(environ), warn=warn).start()
    hub.subscribe(exporter)
    hub.system(f"⎔ Exporting spans over OTLP to {endpoint}")
    return exporter


async def stop_export(exporter: OtlpExporter | None) -> None:
    if exporter is not None:
        await exporter.close()
