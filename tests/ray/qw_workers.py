"""Two workers for the Queues and Workflows tests on the Ray target: a producer (HTTP in,
``env.JOBS`` and ``env.NAP`` out) and a consumer that owns the queue handler and the
workflow class. Both record what they see in D1, which lives in the single primary."""

PRODUCER = """
import json
from urllib.parse import parse_qs, urlsplit

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/send":
            bodies = json.loads(query["bodies"])
            delay = int(query.get("delay", "0"))
            await self.env.JOBS.sendBatch([{"body": b, "delaySeconds": delay} for b in bodies])
            return Response("sent")
        if url.path == "/create":
            params = {"n": int(query["n"]), "nap": query["nap"]}
            instance = await self.env.NAP.create(id=query["id"], params=params)
            return Response(instance.id)
        if url.path == "/status":
            instance = await self.env.NAP.get(query["id"])
            return Response.json(await instance.status())
        if url.path == "/event":
            instance = await self.env.NAP.get(query["id"])
            await instance.send_event(type="approve", payload={"by": query["by"]})
            return Response("sent")
        if url.path == "/seen":
            await self.env.DB.exec(SEEN)
            rows = await self.env.DB.prepare(
                "SELECT queue, body, attempts, size FROM seen ORDER BY rowid"
            ).raw()
            return Response.json(rows)
        if url.path == "/runs":
            await self.env.DB.exec(RUNS)
            rows = await self.env.DB.prepare("SELECT step FROM runs ORDER BY rowid").raw()
            return Response.json([r[0] for r in rows])
        return Response("not found", status=404)


SEEN = "CREATE TABLE IF NOT EXISTS seen (queue TEXT, body TEXT, attempts INTEGER, size INTEGER)"
RUNS = "CREATE TABLE IF NOT EXISTS runs (step TEXT)"
"""

CONSUMER = """
import json

from workers import WorkerEntrypoint, WorkflowEntrypoint

SEEN = "CREATE TABLE IF NOT EXISTS seen (queue TEXT, body TEXT, attempts INTEGER, size INTEGER)"
RUNS = "CREATE TABLE IF NOT EXISTS runs (step TEXT)"


class Default(WorkerEntrypoint):
    async def queue(self, batch):
        db = self.env.DB
        await db.exec(SEEN)
        for message in batch.messages:
            await db.prepare("INSERT INTO seen VALUES (?, ?, ?, ?)").bind(
                batch.queue, json.dumps(message.body), message.attempts, len(batch.messages)
            ).run()
            if message.body == "bad" and batch.queue == "jobs":
                message.retry()
            else:
                message.ack()


class Nap(WorkflowEntrypoint):
    async def run(self, event, step):
        db = self.env.DB

        async def ran(name):
            await db.exec(RUNS)
            await db.prepare("INSERT INTO runs VALUES (?)").bind(name).run()
            rows = await db.prepare("SELECT count(*) AS n FROM runs WHERE step = ?").bind(
                name
            ).first("n")
            return rows

        @step.do("first")
        async def first():
            await ran("first")
            return event.payload["n"] + 1

        value = await first()

        @step.do("flaky", config={"retries": {"limit": 2, "delay": 10, "backoff": "constant"}})
        async def flaky():
            if await ran("flaky") == 1:
                raise ValueError("the first attempt fails")
            return "steady"

        steady = await flaky()
        await step.sleep("nap", event.payload["nap"])
        approval = await step.wait_for_event("approval", "approve", timeout="10 minutes")

        @step.do("last")
        async def last():
            await ran("last")
            return {"value": value * 2, "flaky": steady, "by": approval["payload"]["by"]}

        return await last()
"""

PRODUCER_TOML = """
[vars]
ROLE = "producer"

[[queues.producers]]
binding = "JOBS"
queue = "jobs"

[[workflows]]
name = "nap"
binding = "NAP"
class_name = "Nap"
script_name = "qw-consumer"

[[d1_databases]]
binding = "DB"
database_name = "qw-db"
database_id = "qw-db"
"""

CONSUMER_TOML = """
[[queues.consumers]]
queue = "jobs"
max_batch_size = 2
max_batch_timeout = 0.2
max_retries = 1
dead_letter_queue = "jobs-dlq"

[[queues.consumers]]
queue = "jobs-dlq"
max_batch_size = 1
max_batch_timeout = 0

[[workflows]]
name = "nap"
binding = "NAP"
class_name = "Nap"

[[d1_databases]]
binding = "DB"
database_name = "qw-db"
database_id = "qw-db"
"""
