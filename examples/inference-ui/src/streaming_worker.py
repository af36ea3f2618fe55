"""Entry point of inference-ui-streaming (``main`` in wrangler-streaming.toml)."""

from workers import WorkerEntrypoint

from inference_streaming.worker import handle


class Default(WorkerEntrypoint):
    async def fetch(self, request):  # type: ignore[no-untyped-def]
        return await handle(request, self.env, self.ctx)
