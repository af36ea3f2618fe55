"""Entry point of inference-ui-streaming (``main`` in wrangler-streaming.toml)."""

from typing import Any

from workers import WorkerEntrypoint

from inference_streaming.worker import handle


class Default(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Any:
        return await handle(request, self.env, self.ctx)
