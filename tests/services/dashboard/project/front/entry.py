"""The dashboard test's public worker: records each visit in D1, then asks the back worker."""

from urllib.parse import urlsplit

from workers import Response, WorkerEntrypoint

# Rendered by the dashboard as text: it must never become an element.
HOSTILE_NOTE = "<img src=x onerror=\"document.title='pwned'\">"


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlsplit(request.url).path
        db = self.env.DB
        await db.prepare(
            "CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, path TEXT, note TEXT)"
        ).run()
        await (
            db.prepare("INSERT INTO visits (path, note) VALUES (?, ?)")
            .bind(path, HOSTILE_NOTE)
            .run()
        )
        print("front saw", path)
        back = await self.env.BACK.fetch("http://back/inner" + path)
        return Response("front + " + await back.text())
