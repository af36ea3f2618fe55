"""The worker-facing API, importable as ``workers`` inside worker processes.

Name for name and signature for signature Cloudflare's Python SDK (cloudflare/workers-py,
``packages/runtime-sdk/src/workers/__init__.py``): ``from workers import WorkerEntrypoint,
Response, Request, fetch, FormData, Blob, env``. ``env`` and ``wait_until``/``waitUntil`` are
module attributes resolved when read, as the SDK's module ``__getattr__`` does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from http import HTTPStatus
from typing import Any

from wranglerpy.jsobject import JSObject
from wranglerpy.runtime import current
from wranglerpy.runtime.buffers import js_type_name
from wranglerpy.runtime.entrypoint import (
    DurableObject,
    ExecutionContext,
    WorkerEntrypoint,
    WorkflowEntrypoint,
)
from wranglerpy.runtime.fetch import fetch as _runtime_fetch
from wranglerpy.runtime.formdata import Blob, File, FormData
from wranglerpy.runtime.headers import HeadersInit
from wranglerpy.runtime.request_response import (
    NULL_BODY_MESSAGE,
    NULL_BODY_STATUSES,
    Request,
    empty_buffer,
)
from wranglerpy.runtime.request_response import Response as FetchResponse
from wranglerpy.runtime.rpc import python_from_rpc, python_to_rpc
from wranglerpy.runtime.scheduled import ScheduledController
from wranglerpy.runtime.service import RPCError

# response.py RESPONSE_ACCEPTED_TYPES (workers-py utils.py:21): JS types a Response accepts.
RESPONSE_ACCEPTED_TYPES = frozenset(
    {
        "Blob",
        "File",
        "ArrayBuffer",
        "Uint8Array",
        "FormData",
        "ReadableStream",
        "URLSearchParams",
        "Response",
    }
)


class Response(FetchResponse):
    """``Response(body=None, status=None, status_text="", headers=None, web_socket=None)``.

    The body is ``str``, ``bytes``, ``FormData``, or a JS body (``Blob``, ``ArrayBuffer``,
    ``Uint8Array``, ``ReadableStream``, ``URLSearchParams``, ``Response``); anything else is
    ``TypeError: Unsupported type in Response: <type>``, as on Cloudflare (an async generator
    included: stream through a ``ReadableStream`` or ``TransformStream``).
    """

    def __init__(
        self,
        body: Any = None,
        status: HTTPStatus | int | None = None,
        status_text: str = "",
        headers: HeadersInit | Any = None,
        web_socket: Any = None,
    ) -> None:
        kind = js_type_name(body)
        if kind is not None:
            if kind not in RESPONSE_ACCEPTED_TYPES:
                raise TypeError(f"Unsupported type in Response: {kind}")
        elif body is not None and not isinstance(body, (str, bytes, FormData)):
            raise TypeError(f"Unsupported type in Response: {type(body).__name__}")
        if body is not None and int(status or 200) in NULL_BODY_STATUSES:
            if not empty_buffer(body):
                raise TypeError(NULL_BODY_MESSAGE)
            body = None  # an empty buffer is let through (api/http.c++:1077-1093)
        if isinstance(body, FetchResponse):
            if status is not None or status_text or headers is not None:
                raise ValueError(
                    "Expected no options when constructing Response from a js.Response"
                )
            super().__init__(body, body.status, body.status_text, body._headers)
            return
        super().__init__(body, status, status_text, headers, web_socket)


def as_sdk_response(response: FetchResponse) -> Response:
    """The runtime's response seen as ``workers.Response`` (what the SDK's ``fetch`` returns)."""
    if not isinstance(response, Response):
        response.__class__ = Response  # same layout: the subclass only checks its arguments
    return response  # type: ignore[return-value]


async def fetch(resource: Any, **other_options: Any) -> Response:
    """``await fetch(url_or_request, method=..., headers=..., body=..., redirect=..., cf=...)``.

    Through ``pyfetch`` as the SDK does (SDK ``fetch.py:34-44``): what the JS fetch throws,
    a relative URL's ``TypeError`` included, is ``pyodide.http.AbortError`` (an ``OSError``).
    """
    from wranglerpy.runtime.pyfetch import pyfetch

    if other_options.get("method") is not None:
        other_options["method"] = str(
            getattr(other_options["method"], "value", "") or other_options["method"]
        )
    other_options.setdefault("fetcher", _runtime_fetch)
    return as_sdk_response(await pyfetch(resource, **other_options))


def handler(func: Any) -> Any:
    """``@handler`` (entrypoints.py:247): the SDK converts a JS request to ``Request``; here
    the handler already gets one."""
    return func


def import_from_javascript(module_name: str) -> Any:
    """``cloudflare:workers`` (``env``, ``waitUntil``, the base classes); any other module is
    an ``ImportError`` as no JS module is bundled. ``cloudflare:sockets`` exists on Cloudflare
    but is not emulated: importing it says so at once, rather than handing out a ``connect``
    that fails later (docs/fidelity.md)."""
    if module_name == "cloudflare:workers":
        return current.cloudflare_workers_module()
    if module_name == "cloudflare:sockets":
        raise ImportError(
            "Failed to import 'cloudflare:sockets': TCP sockets (connect()) are not emulated "
            "by wranglerpy; see docs/fidelity.md."
        )
    raise ImportError(
        f"Failed to import '{module_name}': wranglerpy workers have no JavaScript modules; "
        "only 'cloudflare:workers' exists."
    )


@contextlib.contextmanager
def patch_env(
    d: dict[str, Any] | Sequence[tuple[str, Any]] | None = None, **kwds: Any
) -> Iterator[None]:
    """Override values of the module-level ``env`` inside the ``with`` block (utils.py:109)."""
    if d:
        kwds = dict(d) | kwds
    with current.patched_env(kwds):
        yield


def __getattr__(key: str) -> Any:
    # workers/__init__.py:54: env and waitUntil are looked up when read.
    if key == "env":
        return current.process_env()
    if key in ("wait_until", "waitUntil"):
        return current.wait_until
    raise AttributeError(f"module {__name__!r} has no attribute {key!r}")


__all__ = [
    "Blob",
    "DurableObject",
    "ExecutionContext",
    "FetchResponse",
    "File",
    "FormData",
    "JSObject",
    "RPCError",
    "Request",
    "Response",
    "ScheduledController",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "fetch",
    "handler",
    "import_from_javascript",
    "patch_env",
    "python_from_rpc",
    "python_to_rpc",
]
