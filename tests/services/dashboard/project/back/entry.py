"""The dashboard test's inner worker, reached through the front worker's service binding."""

from urllib.parse import urlsplit

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        print("back saw", urlsplit(request.url).path)
        return Response("back ok")
