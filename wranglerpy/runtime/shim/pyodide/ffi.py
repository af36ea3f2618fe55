"""`pyodide.ffi`: ``to_js`` (bytes become a ``Uint8Array``; the rest passes through) and
``create_proxy`` (a no-op locally)."""

from wranglerpy.runtime.jsglobals import JsProxy, create_proxy, to_js

__all__ = ["JsProxy", "create_proxy", "to_js"]
