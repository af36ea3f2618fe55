"""Entry point of inference-ui-api (``main`` in wrangler.toml): an ASGI app, as Cloudflare
Python Workers run FastAPI/Quart apps. Bindings arrive as ``request.scope["env"]``."""

from inference_api.app import create_app

app = create_app()
