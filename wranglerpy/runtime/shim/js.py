"""`js` as Pyodide exposes it to Cloudflare Python Workers: the JS globals older workers use
(``from js import Response, fetch, console, JSON``), backed by wranglerpy's runtime."""

from wranglerpy.runtime.jsglobals import (
    JSON,
    URL,
    Headers,
    Object,
    Request,
    Response,
    console,
    fetch,
)

__all__ = ["JSON", "URL", "Headers", "Object", "Request", "Response", "console", "fetch"]
