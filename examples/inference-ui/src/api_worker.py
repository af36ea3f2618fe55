"""Entry point of inference-ui-api (``main`` in wrangler.toml): a Quart app served through
``workers.asgi``, as Cloudflare Python Workers serve FastAPI/Quart apps. Bindings arrive as
``request.scope["env"]``; work after the response goes through ``workers.wait_until``."""

from typing import Any

from workers import WorkerEntrypoint, asgi

from inference_api.app import create_app

app = create_app()


class Default(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Any:
        return await asgi.fetch(app, request, self.env)
