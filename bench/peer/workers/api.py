"""bench-api: /health answered here, /stream/* forwarded over the STREAMING binding."""

from urllib.parse import urlsplit

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        if url.path == "/health":
            return Response.json({"status": "healthy", "worker": "api"})
        if url.path == "/stream" or url.path.startswith("/stream/"):
            path = url.path[len("/stream") :] or "/"
            target = f"{url.scheme}://{url.netloc}{path}" + (f"?{url.query}" if url.query else "")
            return await self.env.STREAMING.fetch(
                target, method=request.method, headers=request.headers, body=request.body
            )
        return Response("not found\n", status=404)
