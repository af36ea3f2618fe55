"""The worker-facing API, importable as ``workers`` inside worker processes.

Source-compatible with Cloudflare Python Workers: ``from workers import WorkerEntrypoint,
Response, Request, fetch``.
"""

from __future__ import annotations

from typing import Any

from wranglerpy.jsobject import JSObject
from wranglerpy.runtime.entrypoint import (
    DurableObject,
    ExecutionContext,
    WorkerEntrypoint,
    WorkflowEntrypoint,
)
from wranglerpy.runtime.fetch import fetch
from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.messages import Request, Response
from wranglerpy.runtime.scheduled import ScheduledController
from wranglerpy.runtime.service import RPCError


def handler(func: Any) -> Any:
    """``@handler`` from early Python Workers examples: marks ``on_fetch``; nothing to do locally."""
    return func


__all__ = [
    "DurableObject",
    "ExecutionContext",
    "Headers",
    "JSObject",
    "Request",
    "Response",
    "RPCError",
    "ScheduledController",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "fetch",
    "handler",
]
