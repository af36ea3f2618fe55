import asyncio

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/ticks"):
            async def ticks():
                for i in range(5):
                    yield f"data: tick {i}\n\n"
                    await asyncio.sleep(0.2)

            return Response(ticks(), headers={"content-type": "text/event-stream"})
        return Response.json({"backend": "ok"})

    async def shout(self, text):
        return text.upper() + "!"
