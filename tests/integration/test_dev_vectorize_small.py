"""Vectorize and the smaller bindings from worker code under ``wranglerpy dev``, checked
with the CLI while dev runs (the stores are shared through the persist dir)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wranglerpy.cli.main import app
from wranglerpy.testing import DevServer

pytestmark = pytest.mark.integration

WORKER = """
from workers import Response, WorkerEntrypoint
from js import Float32Array


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        env = self.env
        if path == "add":
            await env.VECTORS.upsert([
                {"id": "a", "values": Float32Array.new([1, 0, 0]), "metadata": {"kind": "x"}},
                {"id": "b", "values": [0, 1, 0], "metadata": {"kind": "y"}},
            ])
            return Response("ok")
        if path == "query":
            found = await env.VECTORS.query(
                Float32Array.new([0.1, 1, 0]), topK=2, returnMetadata="all",
                filter={"kind": {"$in": ["x", "y"]}},
            )
            return Response.json([[m.id, m.metadata] for m in found.matches])
        if path == "limit":
            result = await env.RL.limit({"key": "me"})
            return Response.json({"success": result.success})
        if path == "version":
            v = env.CF_VERSION
            return Response.json({"id": v.id, "tag": v.tag, "timestamp": v.timestamp})
        if path == "mail":
            sent = await env.EMAIL.send(
                {"from": "me@example.com", "to": "you@example.com", "subject": "Hi", "text": "t"}
            )
            return Response.json({"messageId": sent.messageId})
        if path == "hyperdrive":
            return Response.json({"host": env.HD.host, "port": env.HD.port})
        if path == "cert":
            try:
                await env.CERT.fetch("https://example.com")
            except Exception as exc:
                return Response(f"{type(exc).__name__}: {exc}", status=500)
        return Response("?", status=404)
"""

CONFIG = """
name = "vz"
main = "entry.py"

[[vectorize]]
binding = "VECTORS"
index_name = "docs"

[[ratelimits]]
name = "RL"
namespace_id = "1001"
simple = { limit = 2, period = 60 }

[version_metadata]
binding = "CF_VERSION"

[[send_email]]
name = "EMAIL"

[[hyperdrive]]
binding = "HD"
id = "x"
localConnectionString = "postgres://u:p@127.0.0.1:5433/db"

[[mtls_certificates]]
binding = "CERT"
certificate_id = "c"
"""


def test_bindings_from_worker_code(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "entry.py").write_text(WORKER)
    (project / "wrangler.toml").write_text(CONFIG)
    state = tmp_path / "state"
    runner = CliRunner()
    created = runner.invoke(
        app,
        ["vectorize", "create", "docs", "--dimensions", "3", "--metric", "cosine",
         "--persist-to", str(state)],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    for prop in ("kind",):
        runner.invoke(
            app,
            ["vectorize", "create-metadata-index", "docs", "--property-name", prop,
             "--type", "string", "--persist-to", str(state)],
        )  # fmt: skip
    with DevServer(project / "wrangler.toml", cwd=project, persist_to=state) as dev:
        client = dev.client()
        assert client.get("/add").status_code == 200
        got = client.get("/query")
        assert got.status_code == 200, got.text
        assert got.json() == [["b", {"kind": "y"}], ["a", {"kind": "x"}]]
        assert [client.get("/limit").json()["success"] for _ in range(3)] == [True, True, False]
        version = client.get("/version").json()
        assert version["tag"] == "" and len(version["id"]) == 36
        assert client.get("/mail").json()["messageId"].endswith("@example.com>")
        assert client.get("/hyperdrive").json() == {"host": "127.0.0.1", "port": 5433}
        cert = client.get("/cert")
        assert cert.status_code == 500
        assert 'does not emulate "mtls_certificates"' in cert.text

        listed = runner.invoke(
            app, ["vectorize", "info", "docs", "--json", "--persist-to", str(state)]
        )
        assert json.loads(listed.output)["vectorCount"] == 2
        mail = runner.invoke(app, ["email", "list", "--json", "--persist-to", str(state)])
        assert json.loads(mail.output)[0]["subject"] == "Hi"
