"""What a spare worker process imports before it is given a worker (the ``warm`` phase).

A reload hands the new code to a warm spare, so whatever the spare has not imported yet is
paid for while the new version is not serving: the ``workers``/``js``/``pyodide`` shim's
runtime modules, the binding modules and the event loop took about two thirds of a reload
(measured with ``bench/dev_bench.sh``). The shim packages themselves are not imported here:
they go on ``sys.path`` only once the worker's own paths are known (``child._prepare_imports``).
"""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path

SHIM_DIR = Path(__file__).parent / "shim"

# Built for most workers by ``build_env``; the AI and Vectorize modules are left out: they
# load model runtimes, which a worker without those bindings should not pay for in memory.
BINDING_MODULES = (
    "wranglerpy.bindings.registry",
    "wranglerpy.bindings.kv",
    "wranglerpy.bindings.d1",
    "wranglerpy.bindings.r2",
    "wranglerpy.bindings.analytics_engine",
    "wranglerpy.bindings.queues",
    "wranglerpy.bindings.workflows",
    "wranglerpy.bindings.background",
    "wranglerpy.runtime.current",
    "wranglerpy.runtime.entropy",
    "wranglerpy.runtime.webloop",
)


# ``(module, names imported from it)`` for each ``wranglerpy`` import in the shim's files: what
# ``preload`` imports for them. Written down rather than parsed at each spare's start (the parse
# cost 2-10 ms per spare); ``tests/runtime/test_warm.py`` regenerates it with
# :func:`scan_shim_imports` and fails, printing the new value, when the shim has changed.
SHIM_IMPORTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wranglerpy.bindings.workflows.errors", ("NonRetryableError",)),
    ("wranglerpy.runtime", ("workers_api",)),
    ("wranglerpy.runtime.asgi_lifespan", ("sdk_fetch",)),
    ("wranglerpy.runtime.asgi_websocket", ("websocket",)),
    ("wranglerpy.runtime.cache_api", ("caches",)),
    ("wranglerpy.runtime.entrypoint", ("relaxed_call",)),
    (
        "wranglerpy.runtime.ffi",
        (
            "JsException",
            "JsProxy",
            "can_run_sync",
            "create_once_callable",
            "create_proxy",
            "destroy_proxies",
            "run_sync",
            "to_js",
        ),
    ),
    ("wranglerpy.runtime.headers", ("Headers",)),
    (
        "wranglerpy.runtime.jsglobals",
        (
            "JSON",
            "URL",
            "Array",
            "ArrayBuffer",
            "Blob",
            "Date",
            "Error",
            "File",
            "FormData",
            "Headers",
            "HTMLRewriter",
            "Object",
            "ReadableStream",
            "Request",
            "Response",
            "TransformStream",
            "Uint8Array",
            "URLSearchParams",
            "WritableStream",
            "console",
            "fetch",
        ),
    ),
    (
        "wranglerpy.runtime.jsweb",
        (
            "AbortController",
            "AbortSignal",
            "DOMException",
            "TextDecoder",
            "TextEncoder",
            "atob",
            "btoa",
            "clearTimeout",
            "crypto",
            "queueMicrotask",
            "setTimeout",
        ),
    ),
    ("wranglerpy.runtime.pyfetch", ("AbortError", "pyfetch")),
    ("wranglerpy.runtime.request_response", ("Response",)),
    ("wranglerpy.runtime.typed_arrays", ("Float32Array", "Float64Array")),
    ("wranglerpy.runtime.webloop", ("WebLoop",)),
    (
        "wranglerpy.runtime.websocket",
        ("WebSocket", "WebSocketPair", "WebSocketRequestResponsePair"),
    ),
    (
        "wranglerpy.runtime.workers_api",
        (
            "Blob",
            "DurableObject",
            "FetchResponse",
            "File",
            "FormData",
            "Request",
            "Response",
            "WorkerEntrypoint",
            "WorkflowEntrypoint",
            "fetch",
            "handler",
            "import_from_javascript",
            "patch_env",
            "python_from_rpc",
            "python_to_rpc",
        ),
    ),
    ("wranglerpy.runtime.wsgi_bridge", ("build_environ", "fetch")),
)


def scan_shim_imports(shim_dir: Path = SHIM_DIR) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``SHIM_IMPORTS`` as the shim's files say it is now (parsed with ``ast``)."""
    import ast

    found: set[tuple[str, tuple[str, ...]]] = set()
    for path in sorted(shim_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add((node.module, tuple(alias.name for alias in node.names)))
            elif isinstance(node, ast.Import):
                found.update((alias.name, ()) for alias in node.names)
    return tuple(sorted(item for item in found if item[0].split(".")[0] == "wranglerpy"))


def preload(http: bool) -> None:
    """Import what loading any worker would import; ``http``: the process will serve HTTP."""
    for name in BINDING_MODULES:
        importlib.import_module(name)
    for name, names in SHIM_IMPORTS:
        module = importlib.import_module(name)
        for attribute in names:  # `from wranglerpy.runtime import workers_api`: a submodule
            if not hasattr(module, attribute):
                importlib.import_module(f"{name}.{attribute}")
    if http:
        import wranglerpy.runtime.asgi_server  # noqa: F401
    with contextlib.suppress(ImportError):  # the `fast` extra: the worker's event loop
        import uvloop  # noqa: F401
