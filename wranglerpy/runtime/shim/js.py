"""`js` as Pyodide exposes it to Cloudflare Python Workers: the JS globals worker code uses
(``from js import Response, fetch, console, ReadableStream, crypto``), backed by wranglerpy's
runtime with Pyodide's calling conventions (keyword arguments to ``.new`` are the init object)."""

from typing import TYPE_CHECKING, Any

from wranglerpy.runtime import jsglobals
from wranglerpy.runtime.cache_api import caches
from wranglerpy.runtime.jsglobals import (
    JSON,
    URL,
    Array,
    ArrayBuffer,
    Blob,
    Date,
    Error,
    File,
    FormData,
    Headers,
    Object,
    ReadableStream,
    Request,
    Response,
    TransformStream,
    Uint8Array,
    URLSearchParams,
    WritableStream,
    console,
    fetch,
)
from wranglerpy.runtime.jsweb import (
    AbortController,
    AbortSignal,
    DOMException,
    TextDecoder,
    TextEncoder,
    atob,
    btoa,
    clearTimeout,
    crypto,
    queueMicrotask,
    setTimeout,
)
from wranglerpy.runtime.typed_arrays import Float32Array, Float64Array
from wranglerpy.runtime.websocket import WebSocket, WebSocketPair, WebSocketRequestResponsePair

if TYPE_CHECKING:  # at run time: module __getattr__ below
    from wranglerpy.runtime.jsglobals import HTMLRewriter

__all__ = [
    "AbortController",
    "AbortSignal",
    "Array",
    "ArrayBuffer",
    "Blob",
    "DOMException",
    "Date",
    "Error",
    "File",
    "Float32Array",
    "Float64Array",
    "FormData",
    "HTMLRewriter",
    "Headers",
    "JSON",
    "Object",
    "ReadableStream",
    "Request",
    "Response",
    "TextDecoder",
    "TextEncoder",
    "TransformStream",
    "URL",
    "URLSearchParams",
    "Uint8Array",
    "WebSocket",
    "WebSocketPair",
    "WebSocketRequestResponsePair",
    "WritableStream",
    "atob",
    "btoa",
    "caches",
    "clearTimeout",
    "console",
    "crypto",
    "fetch",
    "queueMicrotask",
    "setTimeout",
]


def __getattr__(name: str) -> Any:
    # `from js import HTMLRewriter` imports the rewriter then, not with `js` (see jsglobals).
    if name == "HTMLRewriter":
        value = jsglobals.HTMLRewriter
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
