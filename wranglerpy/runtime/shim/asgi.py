"""`asgi` as Cloudflare Python Workers provide it: ``await asgi.fetch(app, request, env)``."""

from wranglerpy.runtime.asgi_bridge import fetch  # noqa: F401
