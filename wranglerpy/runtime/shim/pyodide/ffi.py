"""`pyodide.ffi`: ``to_js`` and ``create_proxy`` pass plain Python values through locally."""

from wranglerpy.runtime.jsglobals import JsProxy, create_proxy, to_js

__all__ = ["JsProxy", "create_proxy", "to_js"]
