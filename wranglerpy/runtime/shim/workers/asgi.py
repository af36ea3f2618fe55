"""`workers.asgi`: ``await asgi.fetch(app, request, env, ctx=None)``."""

from wranglerpy.runtime.asgi_bridge import fetch

__all__ = ["fetch"]
