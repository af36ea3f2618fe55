"""`pyodide.ffi` as Python Workers import it (see wranglerpy.runtime.ffi)."""

from wranglerpy.runtime.ffi import (
    JsException,
    JsProxy,
    can_run_sync,
    create_once_callable,
    create_proxy,
    destroy_proxies,
    run_sync,
    to_js,
)

JsBuffer = JsProxy
jsnull = None

__all__ = [
    "JsBuffer",
    "JsException",
    "JsProxy",
    "can_run_sync",
    "create_once_callable",
    "create_proxy",
    "destroy_proxies",
    "jsnull",
    "run_sync",
    "to_js",
]
