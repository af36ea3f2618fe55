"""`workers.wsgi`: ``await wsgi.fetch(app, request, env, ctx=None)`` (Django, Flask)."""

from wranglerpy.runtime.wsgi_bridge import build_environ, fetch

__all__ = ["build_environ", "fetch"]
