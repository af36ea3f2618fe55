"""``wranglerpy deploy --kv-backend/--r2-backend``: the local edge it starts, and the worker
processes of every version it serves, keep KV and R2 on the servers."""

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.state.servers import Server
from tests.state.test_shared_dev import _worker
from wranglerpy.bindings.kv import KVNamespaceBinding
from wranglerpy.bindings.r2 import R2BucketBinding
from wranglerpy.cli.main import app
from wranglerpy.deploy.client import running_edge, stop_edge
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.state import KV_ENV, R2_ENV, parse_kv_url, parse_r2_url
from wranglerpy.state.redis_kv import RedisKVStore
from wranglerpy.state.s3_r2 import S3R2Store

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


def test_deploy_starts_an_edge_whose_workers_use_the_backends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_server: Server, s3_server: Server
) -> None:
    # The CLI exports the chosen backends into this process: restore them afterwards.
    monkeypatch.setenv(KV_ENV, "")
    monkeypatch.setenv(R2_ENV, "")
    paths = EdgePaths.resolve(tmp_path / "edge")
    monkeypatch.setenv("WRANGLERPY_EDGE_DIR", str(paths.root))
    monkeypatch.setenv("WRANGLERPY_REGISTRY_PATH", str(tmp_path / "registry"))
    namespace, bucket = f"edge-{uuid.uuid4().hex[:8]}", f"edge-{uuid.uuid4().hex[:8]}"
    config = _worker(tmp_path / "app", "edgy", namespace, bucket)
    monkeypatch.chdir(config.parent)
    flags = ["--kv-backend", redis_server.url, "--r2-backend", s3_server.url]
    try:
        result = CliRunner().invoke(app, ["deploy", "--edge-port", "0", *flags])
        assert result.exit_code == 0, result.output
        assert "State backends: KV: redis://127.0.0.1" in result.output
        assert "wranglerpytest:***@" in result.output  # the secret is not printed
        edge = running_edge(paths)
        assert edge is not None
        with httpx.Client(
            base_url=f"http://127.0.0.1:{edge.port}",
            headers={"host": f"edgy.localhost:{edge.port}"},
            timeout=30,
        ) as client:
            assert client.put("/kv/from-edge", content="kv value").status_code == 200
            assert client.put("/r2/from-edge.txt", content="r2 value").status_code == 200
    finally:
        stop_edge(paths)
    asyncio.run(_read_back(redis_server, s3_server, namespace, bucket))
    assert not (paths.root / "state" / "kv").exists()


async def _read_back(redis_server: Server, s3_server: Server, namespace: str, bucket: str) -> None:
    """As another node would: straight from the servers."""
    kv_store = RedisKVStore(parse_kv_url(redis_server.url), namespace)
    assert await KVNamespaceBinding(kv_store).get("from-edge") == "kv value"
    await kv_store.aclose()
    files = R2BucketBinding(S3R2Store(parse_r2_url(s3_server.url), bucket))
    got = await files.get("from-edge.txt")
    assert got is not None and await got.text() == "r2 value"
    files.close()
