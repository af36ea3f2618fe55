import asyncio

from js import TextEncoder, TransformStream
from js import TextEncoder, TransformStream
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/ticks"):
            # Stream as Cloudflare does: write to a TransformStream, return its readable side.
            stream = TransformStream.new()
            writer = stream.writable.getWriter()
            encoder = TextEncoder.new()

            async def ticks():
                try:
                    for i in range(5):
                        await writer.write(encoder.encode(f"data: tick {i}\n\n"))
                        await asyncio.sleep(0.2)
                finally:
                    await writer.close()

            self.ctx.waitUntil(ticks())
            return Response(stream.readable, headers={"content-type": "text/event-stream"})
        return Response.json({"backend": "ok"})

    async def shout(self, text):
        return text.upper() + "!"
