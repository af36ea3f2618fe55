from urllib.parse import urlsplit

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlsplit(request.url).path
        if path == "/count":
            count = int(await self.env.KV.get("count") or 0) + 1
            await self.env.KV.put("count", str(count))
            return Response.json({"count": count})
        return Response(f"{self.env.GREETING} from {{name}}!")
