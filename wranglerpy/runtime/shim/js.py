"""`js` as Pyodide exposes it to Cloudflare Python Workers: the JS globals older workers use
(``from js import Response, fetch, console, JSON``), backed by wranglerpy's runtime."""

from wranglerpy.runtime.jsglobals import (
    JSON,
    URL,
    ArrayBuffer,
    Headers,
    HTMLRewriter,
    Object,
    Request,
    Response,
    Uint8Array,
    console,
    fetch,
)
from wranglerpy.runtime.typed_arrays import Float32Array, Float64Array
from wranglerpy.runtime.websocket import WebSocket, WebSocketPair, WebSocketRequestResponsePair

__all__ = [
    "JSON",
    "URL",
    "ArrayBuffer",
    "Float32Array",
    "Float64Array",
    "Headers",
    "HTMLRewriter",
    "Object",
    "Request",
    "Response",
    "Uint8Array",
    "WebSocket",
    "WebSocketPair",
    "WebSocketRequestResponsePair",
    "console",
    "fetch",
]
