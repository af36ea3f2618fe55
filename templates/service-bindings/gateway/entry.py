from urllib.parse import urlsplit

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        if url.path.startswith("/backend/"):
            # Forward over the binding: method, headers and body pass through, the answer streams back.
            target = request.url.replace("/backend/", "/", 1)
            return await self.env.BACKEND.fetch(
                target, method=request.method, headers=request.headers, body=request.body
            )
        if url.path == "/shout":
            # RPC: call a method of the backend's entrypoint directly.
            return Response(await self.env.BACKEND.shout("hello"))
        return Response.json({"gateway": "ok", "try": ["/backend/ticks", "/shout"]})
