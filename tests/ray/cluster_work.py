"""The work the cluster tests deploy: the example's placement on the two worker nodes and
a probe project (a worker reporting which process answers, KV/R2/D1 through it), kept
beside ``test_cluster.py`` so that file holds the tests."""

from __future__ import annotations

API = "inference-ui-api"
STREAMING = "inference-ui-streaming"
PLACEMENT = f"""
[ai]
replicas = 1
resources = {{ node_a = 1 }}

[workers.{API}]
replicas = 1
resources = {{ node_a = 1 }}

[workers.{STREAMING}]
replicas = 2
resources = {{ node_b = 1 }}
graceful_shutdown_s = 60

[primary]
resources = {{ node_a = 1 }}

[workers.probe-a]
resources = {{ node_a = 1 }}

[workers.probe-b]
replicas = 2
resources = {{ node_b = 1 }}

[ingress]
resources = {{ node_a = 1 }}  # not on node_b, which the kill test takes down
"""
# Two copies of one small worker, one per node, sharing a KV namespace, an R2 bucket and a D1
# database: what one writes, the other must read.
# probe-b also names the process that answered (/pid), so the kill test knows which replica
# served each answer, and echoes WebSocket messages (/ws).
PROBE = """
import os
from urllib.parse import parse_qs, urlsplit

from js import WebSocketPair
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlsplit(request.url)
        if url.path == "/pid":
            return Response.json({"pid": os.getpid()})
        if url.path == "/ws":
            client, server = WebSocketPair.new().object_values()
            server.accept()
            server.addEventListener("message", lambda event: server.send(f"echo:{event.data}"))
            return Response(None, status=101, web_socket=client)
        key = parse_qs(url.query)["k"][0]
        db = self.env.DB
        if url.path == "/put":
            value = parse_qs(url.query)["v"][0]
            await self.env.KV.put(key, value)
            await self.env.BUCKET.put(key, value)
            await db.exec("CREATE TABLE IF NOT EXISTS probe (k TEXT PRIMARY KEY, v TEXT)")
            await db.prepare("INSERT OR REPLACE INTO probe VALUES (?, ?)").bind(key, value).run()
            return Response("ok")
        obj = await self.env.BUCKET.get(key)
        return Response.json({
            "kv": await self.env.KV.get(key),
            "r2": await obj.text() if obj is not None else None,
            "d1": await db.prepare("SELECT v FROM probe WHERE k = ?").bind(key).first("v"),
        })
"""
PROBE_CONFIG = """name = "{name}"
main = "probe/probe.py"
compatibility_date = "2025-10-01"
compatibility_flags = ["python_workers"]

[[kv_namespaces]]
binding = "KV"
id = "probe-kv"

[[r2_buckets]]
binding = "BUCKET"
bucket_name = "probe-bucket"

[[d1_databases]]
binding = "DB"
database_name = "probe-db"
database_id = "probe-db"
"""
CHAT = {"messages": [{"role": "user", "parts": [{"type": "text", "text": "Hello!"}]}]}
