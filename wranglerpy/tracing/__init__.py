"""Traces across workers: W3C Trace Context ids (``w3c``) carried in the wire's ``trace``
field, spans made from the request events every worker already emits (``spans``), and their
export over OTLP/HTTP to any OpenTelemetry collector (``otlp``, the ``otel`` extra)."""
