"""The 500 answer for an exception in worker code: JSON for API clients, HTML for browsers."""

from __future__ import annotations

import html
import traceback

from wranglerpy.runtime.headers import Headers, HeadersCopy
from wranglerpy.runtime.request_response import Response


def wants_html(headers: Headers | HeadersCopy) -> bool:
    accept = headers.get("accept") or ""
    return "text/html" in accept


def error_response(
    exc: BaseException,
    headers: Headers | HeadersCopy,
    *,
    expose: bool,
    detail: str | None = None,
    title: str = "Worker threw exception",
) -> Response:
    """``expose`` (dev) shows the error and its traceback; otherwise (edge) only Cloudflare's
    generic 1101 answer, as a deployed worker gives."""
    name = getattr(exc, "error_name", type(exc).__name__)
    message = str(exc)
    if not expose:
        if wants_html(headers):
            body = "<!doctype html><title>Worker threw exception</title><h1>Error 1101</h1>"
            return Response(body, status=500, headers={"content-type": "text/html;charset=UTF-8"})
        return Response.json({"error": "Worker threw exception", "code": 1101}, status=500)
    stack = detail or "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if wants_html(headers):
        body = (
            "<!doctype html><html><head><meta charset='utf-8'><title>"
            f"{html.escape(title)}</title><style>body{{font-family:system-ui;margin:2em}}"
            "pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p><b>{html.escape(name)}</b>: {html.escape(message)}</p>"
            f"<pre>{html.escape(stack)}</pre></body></html>"
        )
        return Response(body, status=500, headers={"content-type": "text/html;charset=UTF-8"})
    return Response.json({"error": title, "name": name, "message": message}, status=500)


def exceeded_resources_response(headers: Headers | HeadersCopy) -> Response:
    """Cloudflare's answer to an invocation over its CPU limit: error 1102, 503 (the same in
    dev and on the edge: there is no stack to show, the handler was stopped)."""
    if wants_html(headers):
        body = (
            "<!doctype html><title>Worker exceeded resource limits</title>"
            "<h1>Error 1102</h1><p>Worker exceeded resource limits</p>"
        )
        return Response(body, status=503, headers={"content-type": "text/html;charset=UTF-8"})
    return Response.json({"error": "Worker exceeded resource limits", "code": 1102}, status=503)
