"""R2 and Analytics Engine from worker code under ``wranglerpy dev``, checked with the CLI while
dev is still running (the stores are shared through the persist dir)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.cli.main import app
from wranglerpy.testing import DevServer

pytestmark = pytest.mark.integration

WORKER = """
from workers import Response, WorkerEntrypoint
from js import Headers


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if request.method == "PUT":
            obj = await self.env.BUCKET.put(
                path, request.body, httpMetadata={"contentType": "text/x-test"}
            )
            self.env.HITS.writeDataPoint({"blobs": ["put", path], "doubles": [obj.size]})
            return Response.json({"etag": obj.etag, "size": obj.size})
        obj = await self.env.BUCKET.get(path, range={"offset": 1} if "ranged" in path else None)
        if obj is None:
            return Response("missing", status=404)
        headers = Headers.new()
        obj.writeHttpMetadata(headers)
        headers.set("etag", obj.httpEtag)
        self.env.HITS.writeDataPoint(blobs=["get", path], doubles=[obj.size])
        return Response(obj.body, headers=headers)
"""


def test_worker_uses_r2_and_analytics_and_the_cli_sees_it(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "entry.py").write_text(WORKER)
    (project / "wrangler.toml").write_text(
        'name = "r2ae"\nmain = "entry.py"\n\n[[r2_buckets]]\nbinding = "BUCKET"\n'
        'bucket_name = "files"\n\n[[analytics_engine_datasets]]\nbinding = "HITS"\n'
        'dataset = "hits"\n'
    )
    state = tmp_path / "state"
    data = bytes(range(256)) * 4096  # 1 MiB, streamed both ways
    with DevServer(project / "wrangler.toml", cwd=project, persist_to=state) as dev:
        client = dev.client()
        put = client.put("/dir/ranged.bin", content=data)
        assert put.status_code == 200, put.text
        assert put.json()["size"] == len(data)
        got = client.get("/dir/ranged.bin")
        assert got.status_code == 200, got.text
        assert got.content == data[1:]
        assert got.headers["content-type"] == "text/x-test"
        assert got.headers["etag"] == f'"{put.json()["etag"]}"'
        assert client.get("/nope").status_code == 404

        runner = CliRunner()
        cli = runner.invoke(
            app,
            ["r2", "object", "get", "files/dir/ranged.bin", "--pipe", "--persist-to", str(state)],
        )
        assert cli.exit_code == 0 and cli.stdout_bytes == data
        query = runner.invoke(
            app,
            [
                "analytics", "query", "--persist-to", str(state), "--json",
                "SELECT blob1, count() AS n, sum(double1) AS bytes FROM hits GROUP BY blob1 ORDER BY blob1",
            ],
        )  # fmt: skip
        assert query.exit_code == 0, query.output
        assert json.loads(query.output)["data"] == [
            {"blob1": "get", "n": "1", "bytes": float(len(data))},
            {"blob1": "put", "n": "1", "bytes": float(len(data))},
        ]
