"""`workers` as Cloudflare Python Workers provide it, backed by wranglerpy's local runtime.

The names and signatures are the SDK's (cloudflare/workers-py src/workers/__init__.py);
``env`` and ``wait_until``/``waitUntil`` are read when accessed, as there.
"""

from typing import Any

from wranglerpy.runtime import workers_api as _api
from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.workers_api import (
    Blob,
    DurableObject,
    FetchResponse,
    File,
    FormData,
    Request,
    Response,
    WorkerEntrypoint,
    WorkflowEntrypoint,
    fetch,
    handler,
    import_from_javascript,
    patch_env,
    python_from_rpc,
    python_to_rpc,
)

from . import asgi, workflows, wsgi

__all__ = [
    "Blob",
    "DurableObject",
    "FetchResponse",
    "File",
    "FormData",
    "Headers",
    "Request",
    "Response",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "asgi",
    "env",
    "fetch",
    "handler",
    "import_from_javascript",
    "patch_env",
    "python_from_rpc",
    "python_to_rpc",
    "waitUntil",
    "wait_until",
    "workflows",
    "wsgi",
]


def __getattr__(key: str) -> Any:
    return _api.__getattr__(key)
