"""Runtime ``request`` events in the shape of ``wrangler tail``, as JSON or one readable line.

The JSON shape follows Cloudflare's tail events: ``outcome``, ``scriptName``, ``entrypoint``,
``exceptions``, ``logs``, ``eventTimestamp`` and ``event`` (``request``/``response`` for fetch,
``cron``/``scheduledTime`` for scheduled events, ``rpcMethod`` for RPC calls), plus
``wallTime`` (ms), the ``trace`` id a request shares with the binding calls it makes, and the
``caller`` of a binding call.
"""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

from wranglerpy.logs.redact import redact_headers, redact_url

_PHRASES = {s.value: s.phrase for s in HTTPStatus}
OUTCOME_COLOURS = {"ok": "32", "exception": "31", "canceled": "33"}
LEVEL_COLOURS = {"error": "31", "warn": "33", "debug": "2"}


def to_tail_event(event: dict[str, Any]) -> dict[str, Any]:
    duration = float(event.get("duration_ms") or 0.0)
    finished = float(event.get("ts") or time.time())
    body: dict[str, Any]
    if event.get("scheduled"):
        body = dict(event["scheduled"])
    elif event.get("rpcMethod"):
        body = {"rpcMethod": event["rpcMethod"]}
    elif event.get("queue_batch"):  # Cloudflare's queue event: {"queue": ..., "batchSize": ...}
        body = {k: event["queue_batch"][k] for k in ("queue", "batchSize")}
    else:
        # Redacted again here: events from any source (dev, the edge) reach tail through this.
        headers = redact_headers((event.get("headers") or {}).items())
        body = {
            "request": {
                "url": redact_url(str(event.get("url", ""))),
                "method": event.get("method", "GET"),
                "headers": headers,
                "cf": {"colo": "LOCAL", "clientIp": client_ip(event)},
            },
            "response": {"status": event.get("status")},
        }
    tail: dict[str, Any] = {
        "outcome": event.get("outcome", "ok"),
        "scriptName": event.get("worker"),
        "entrypoint": event.get("entrypoint") or "Default",
        "exceptions": list(event.get("exceptions") or []),
        "logs": list(event.get("logs") or []),
        "eventTimestamp": int((finished - duration / 1000) * 1000),
        "event": body,
        "wallTime": round(duration),
        "durationMs": duration,
        "trace": event.get("trace"),
        "truncated": False,
        "diagnosticsChannelEvents": [],
    }
    if event.get("version"):
        tail["scriptVersion"] = {"id": event["version"]}
    if event.get("caller"):
        tail["caller"] = event["caller"]
    if event.get("durableObjectId"):  # a Durable Object event: the class is the entrypoint
        tail["durableObjectId"] = event["durableObjectId"]
    return tail


def client_ip(event: dict[str, Any]) -> str:
    """The client's address: the edge passes it as CF-Connecting-IP, ``dev`` sees it directly."""
    headers = event.get("headers") or {}
    return str(headers.get("cf-connecting-ip") or event.get("client") or "")


def _paint(colour: bool, code: str, text: str) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


def pretty(tail: dict[str, Any], colour: bool = False) -> str:
    """One line per event, then its logs and exceptions, indented."""
    stamp = time.strftime("%H:%M:%S", time.localtime(tail["eventTimestamp"] / 1000))
    outcome = str(tail.get("outcome"))
    body = tail.get("event") or {}
    if "request" in body:
        status = body.get("response", {}).get("status")
        phrase = f"{status} {_PHRASES.get(int(status), '')}".rstrip() if status else "-"
        what = f"{body['request']['method']} {body['request']['url']} {phrase}"
    elif "rpcMethod" in body:
        what = f"RPC {body['rpcMethod']}()"
    elif "batchSize" in body:
        what = f"Queue {body.get('queue')} ({body['batchSize']} messages)"
    else:
        what = f"Scheduled cron {body.get('cron') or '(manual)'}"
    line = (
        f"{stamp} {tail.get('scriptName')} {what} "
        f"{_paint(colour, OUTCOME_COLOURS.get(outcome, ''), outcome)} ({tail.get('wallTime')} ms)"
    )
    if tail.get("caller"):
        line += _paint(colour, "2", f" ← {tail['caller']}")
    line += _paint(colour, "2", f" trace {tail.get('trace')}")
    out = [line]
    for log in tail.get("logs") or []:
        level = str(log.get("level", "log"))
        text = " ".join(str(m) for m in log.get("message") or [])
        text = text.rstrip("\n").replace("\n", "\n    ")  # a traceback stays under its event
        out.append("  " + _paint(colour, LEVEL_COLOURS.get(level, ""), f"({level}) {text}"))
    for exc in tail.get("exceptions") or []:
        out.append("  " + _paint(colour, "31", f"✘ {exc.get('name')}: {exc.get('message')}"))
    return "\n".join(out)
