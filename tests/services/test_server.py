"""Starting and stopping the services process, the spec taken from the configs, and the
services beside a real `wranglerpy dev` (boto3 writes what the worker's env.B reads)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
import pytest

from wranglerpy.config.load import load_worker
from wranglerpy.errors import ConfigError, UsageError
from wranglerpy.services.server import ServicesOptions, start_beside, start_services
from wranglerpy.services.spec import ServicesSpec, spec_for
from wranglerpy.testing.dev_server import DevServer

CONFIG = """
name = "photos-app"
main = "src/entry.py"
compatibility_date = "2025-09-01"
compatibility_flags = ["python_workers"]

[[r2_buckets]]
binding = "B"
bucket_name = "photos"

[ai]
binding = "AI"
models = { "@cf/x/y" = "smollm2-135m-instruct" }

[dev]
s3_access_key_id = "my-key"
s3_secret_access_key = "my-secret"
"""

WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        obj = await self.env.B.get("hello.txt")
        return Response(await obj.text() if obj else "missing")
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(WORKER)
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    return tmp_path


def test_spec_from_configs(tmp_path: Path) -> None:
    worker = load_worker(project(tmp_path) / "wrangler.toml")
    spec = spec_for([worker], tmp_path / "state")
    assert (spec.access_key_id, spec.secret_access_key) == ("my-key", "my-secret")
    assert spec.buckets == ("photos",)
    assert spec.ai_models == (("@cf/x/y", "smollm2-135m-instruct"),)
    assert ServicesSpec.from_json(spec.to_json()) == spec


def test_half_a_key_pair_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text('name = "w"\n[dev]\ns3_access_key_id = "k"\n')
    with pytest.raises(ConfigError, match="dev.s3_secret_access_key"):
        load_worker(tmp_path / "wrangler.toml")


async def test_disabled_starts_nothing(tmp_path: Path) -> None:
    assert await start_beside([], tmp_path, ServicesOptions(enabled=False), print) is None


async def test_taken_port_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(UsageError, match="already in use"):
            await start_services(ServicesSpec(tmp_path), taken.getsockname()[1])


async def test_stop_ends_the_process(tmp_path: Path) -> None:
    handle = await start_services(ServicesSpec(tmp_path), 0)
    async with httpx.AsyncClient() as client:
        models = await client.get(f"{handle.openai_url}/models")
    assert models.status_code == 200
    await handle.stop()
    assert handle.proc.returncode is not None
    await handle.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"{handle.openai_url}/models")


@pytest.mark.integration
def test_dev_serves_s3_beside_the_worker(tmp_path: Path) -> None:
    folder = project(tmp_path)
    with DevServer(
        folder / "wrangler.toml", cwd=folder, services=True, extra_args=["--services-port", "0"]
    ) as dev:
        output = dev.output()
        s3_url = re.search(r"S3 API \(local R2 buckets\) on (\S+)", output)
        openai_url = re.search(
            r"OpenAI-compatible API \(local Workers AI models\) on (\S+)", output
        )
        assert s3_url and openai_url and openai_url.group(1).endswith("/v1"), output
        s3 = boto3.client(
            "s3",
            endpoint_url=s3_url.group(1),
            aws_access_key_id="my-key",
            aws_secret_access_key="my-secret",
            region_name="auto",
        )
        s3.put_object(Bucket="photos", Key="hello.txt", Body=b"written with boto3")
        assert dev.client().get("/").text == "written with boto3"


@pytest.mark.integration
def test_edge_serves_them_and_status_prints_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from wranglerpy.cli.main import app
    from wranglerpy.deploy.client import stop_edge
    from wranglerpy.deploy.paths import EdgePaths

    paths = EdgePaths.resolve(tmp_path / "edge")
    monkeypatch.setenv("WRANGLERPY_EDGE_DIR", str(paths.root))
    monkeypatch.setenv("WRANGLERPY_REGISTRY_PATH", str(tmp_path / "registry"))
    runner = CliRunner()
    try:
        started = runner.invoke(app, ["edge", "start", "--port", "0"])
        assert started.exit_code == 0, started.output
        # The services come up beside the edge, just after it reports ready: wait for them.
        status, found = "", None
        deadline = time.monotonic() + 60
        while found is None and time.monotonic() < deadline:
            status = runner.invoke(app, ["edge", "status"]).output
            found = re.search(r"S3 API \(local R2 buckets\) on (\S+)", status)
            if found is None:
                time.sleep(0.2)
        assert found, status
        listing = boto3.client(
            "s3",
            endpoint_url=found.group(1),
            aws_access_key_id="wranglerpy-local",
            aws_secret_access_key="wranglerpy-local-secret",
            region_name="auto",
        ).list_buckets()
        assert listing["Buckets"] == []
    finally:
        stop_edge(paths)


def test_the_dev_parent_does_not_import_the_services_process_code():
    """`dev` waits for the services process's READY line; importing that process's module
    (its HTTP server, the worker runtime) only to read the constant cost every start ~0.45 s."""
    code = (
        "import sys, wranglerpy.supervisor.session\n"
        "print(sorted(m for m in ('wranglerpy.services.child', 'wranglerpy.runtime.child')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
