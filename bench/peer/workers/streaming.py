"""bench-streaming: /health, /echo, /kv?k=, /d1, /sse?n= (the peer benchmark's routes).

The hot-reload benchmark rewrites the HEALTH_STATUS line (in a copy), so keep it on one line.
"""

from urllib.parse import parse_qs, urlsplit

from js import ReadableStream
from pyodide.ffi import create_proxy, to_js
from workers import Response, WorkerEntrypoint

HEALTH_STATUS = "healthy"
SSE_EVENT = b'data: {"response":"tok"}\n\n'
SSE_DONE = b"data: [DONE]\n\n"


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        query = parse_qs(url.query)
        if url.path == "/health":
            return Response.json({"status": HEALTH_STATUS})
        if url.path == "/echo":
            body = await request.bytes()
            content_type = request.headers.get("content-type") or "application/octet-stream"
            return Response(body, headers={"content-type": content_type})
        if url.path == "/kv":
            value = await self.env.KV.get(query.get("k", ["bench"])[0])
            if value is None:
                return Response("not found\n", status=404)
            return Response(value, headers={"content-type": "text/plain"})
        if url.path == "/d1":
            row = await self.env.DB.prepare("SELECT 1 AS one").first()
            return Response.json(row)
        if url.path == "/sse":
            try:
                n = max(0, min(int(query.get("n", ["50"])[0]), 100_000))
            except ValueError:
                n = 50

            sent = 0

            async def pull(controller):  # as on Cloudflare: a ReadableStream of JS bytes
                nonlocal sent
                if sent < n:
                    controller.enqueue(to_js(SSE_EVENT))
                elif sent == n:
                    controller.enqueue(to_js(SSE_DONE))
                else:
                    controller.close()
                sent += 1

            stream = ReadableStream.new(pull=create_proxy(pull))
            return Response(
                stream, headers={"content-type": "text/event-stream", "cache-control": "no-cache"}
            )
        return Response("not found\n", status=404)
