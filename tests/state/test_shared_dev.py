"""Two separate ``wranglerpy dev`` processes, each with its own persist dir, see each other's
KV and R2 writes through Redis and S3: what a second node of a cluster does."""

import uuid
from pathlib import Path

import pytest

from tests.state.servers import Server
from wranglerpy.state import KV_ENV, R2_ENV
from wranglerpy.testing import DevServer

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        kind, key = request.url.split("/", 3)[3].split("/", 1)
        if request.method == "PUT":
            body = await request.text()
            if kind == "kv":
                await self.env.KV.put(key, body, metadata={"by": self.env.NAME})
            else:
                await self.env.FILES.put(key, body, customMetadata={"by": self.env.NAME})
            return Response("stored")
        if kind == "kv":
            got = await self.env.KV.getWithMetadata(key)
            if got.value is None:
                return Response("missing", status=404)
            listed = [k.name for k in (await self.env.KV.list()).keys]
            return Response.json({"value": got.value, "by": got.metadata["by"], "keys": listed})
        obj = await self.env.FILES.get(key)
        if obj is None:
            return Response("missing", status=404)
        listed = [o.key for o in (await self.env.FILES.list()).objects]
        text = await obj.text()
        return Response.json({"value": text, "by": obj.customMetadata["by"], "keys": listed})
"""


def _worker(root: Path, name: str, namespace: str, bucket: str) -> Path:
    root.mkdir()
    (root / "entry.py").write_text(WORKER)
    config = root / "wrangler.toml"
    config.write_text(
        f'name = "{name}"\nmain = "entry.py"\ncompatibility_date = "2025-10-01"\n\n[vars]\nNAME = "{name}"\n\n'
        f'[[kv_namespaces]]\nbinding = "KV"\nid = "{namespace}"\n\n'
        f'[[r2_buckets]]\nbinding = "FILES"\nbucket_name = "{bucket}"\n'
    )
    return config


def test_two_dev_processes_share_kv_and_r2_through_the_backends(
    tmp_path: Path, redis_server: Server, s3_server: Server
) -> None:
    namespace = f"ns-{uuid.uuid4().hex[:8]}"
    bucket = f"files-{uuid.uuid4().hex[:8]}"
    first = _worker(tmp_path / "one", "writer", namespace, bucket)
    second = _worker(tmp_path / "two", "reader", namespace, bucket)
    # One process gets the backends as flags, the other from the environment (another node).
    flags = ["--kv-backend", redis_server.url, "--r2-backend", s3_server.url]
    environ = {KV_ENV: redis_server.url, R2_ENV: s3_server.url}
    with (
        DevServer(first, cwd=first.parent, persist_to=tmp_path / "s1", extra_args=flags) as one,
        DevServer(second, cwd=second.parent, persist_to=tmp_path / "s2", environ=environ) as two,
    ):
        a, b = one.client(), two.client()
        assert a.put("/kv/greeting", content="hello from one").status_code == 200
        assert a.put("/r2/docs/a.txt", content="file from one").status_code == 200
        kv = b.get("/kv/greeting")
        assert kv.status_code == 200, kv.text
        assert kv.json() == {"value": "hello from one", "by": "writer", "keys": ["greeting"]}
        r2 = b.get("/r2/docs/a.txt")
        assert r2.status_code == 200, r2.text
        assert r2.json() == {"value": "file from one", "by": "writer", "keys": ["docs/a.txt"]}
        # And back the other way.
        assert b.put("/kv/reply", content="hi from two").status_code == 200
        assert b.put("/r2/docs/b.txt", content="file from two").status_code == 200
        assert a.get("/kv/reply").json()["by"] == "reader"
        assert a.get("/r2/docs/b.txt").json()["keys"] == ["docs/a.txt", "docs/b.txt"]
    # Nothing of it went to either local persist dir.
    for state in (tmp_path / "s1", tmp_path / "s2"):
        assert not (state / "kv").exists() and not (state / "r2").exists()
