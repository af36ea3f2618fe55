"""Gradual deployments on the local edge, end to end: `versions upload`, `versions deploy
A@50% B@50%` under traffic, version overrides, service bindings following the split, and a plain
`deploy` returning to 100% — with zero failed requests throughout."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.deploy.conftest import Edge
from tests.waits import wait_until
from wranglerpy.cli.main import app
from wranglerpy.deploy.history import DeploymentLog

pytestmark = pytest.mark.integration
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def set_version(edge: Edge, version: str) -> None:
    api = edge.project / "src" / "api.py"
    text = re.sub(r'VERSION = "v\d+"', f'VERSION = "{version}"', api.read_text())
    api.write_text(text)


@contextmanager
def traffic(edge: Edge, path: str, seen: list[str], failures: list[str]) -> Iterator[None]:
    """Three clients asking ``path`` of pair-api until the block ends."""
    stop = threading.Event()

    def hammer() -> None:
        with edge.client("pair-api") as api:
            while not stop.is_set():
                try:
                    response = api.get(path)
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text}")
                    else:
                        body = response.json()
                        seen.append(body.get("version") or body.get("release") or "r1")
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def test_versions_upload_then_a_split_then_back_to_100_percent(edge: Edge) -> None:
    edge.cli("deploy", "--all", "--edge-port", "0")
    v1 = DeploymentLog(edge.paths.deployments).current("pair-api").version_id
    set_version(edge, "v2")
    out = edge.cli("versions", "upload", "--tag", "t2", "--message", "second")
    match = re.search(rf"Worker Version ID: ({UUID})", out)
    assert match, out
    v2 = match.group(1)
    with edge.client("pair-api") as api:  # uploaded, not deployed
        assert api.get("/health").json()["version"] == "v1"
    view = edge.cli("versions", "view", v2[:8], "--name", "pair-api")
    assert "Version ID:" in view and v2 in view and "t2" in view and "second" in view

    seen: list[str] = []
    failures: list[str] = []
    with traffic(edge, "/health", seen, failures):
        wait_until(lambda: len(seen) >= 10, "traffic on v1")
        out = edge.cli(
            "versions", "deploy", f"{v1}@50%", f"{v2[:8]}@50%", "--name", "pair-api", "-y"
        )
        assert f"Deployed pair-api version {v1} at 50% and version {v2} at 50%" in out
        mark = len(seen)
        wait_until(lambda: {"v1", "v2"} <= set(seen[mark:]), "both versions answering")
        with edge.client("pair-api") as api:
            header = {"Cloudflare-Workers-Version-Overrides": f'pair-api="{v2}"'}
            assert {api.get("/health", headers=header).json()["version"] for _ in range(10)} == {
                "v2"
            }
            keyed = {"Cloudflare-Workers-Version-Key": "user-42"}
            assert (
                len({api.get("/health", headers=keyed).json()["version"] for _ in range(10)}) == 1
            )
        status = json.loads(edge.cli("deployments", "status", "pair-api", "--json"))
        assert status["versions"] == [[v1, 50.0], [v2, 50.0]] and status["serving"] is True
        listed = edge.cli("deployments", "list", "pair-api")
        assert listed.startswith("Deployments of pair-api (other workers: --name WORKER)")
        assert f"(50%) {v1}" in listed and f"(50%) {v2}" in listed
        versions = edge.cli("versions", "list", "pair-api")
        assert versions.startswith("Versions of pair-api") and "(active, 50%)" in versions
        # wrangler refuses a secret edit while the latest version is not fully deployed
        # (workers-sdk packages/wrangler/src/secret/index.ts): it would end the split.
        refused = edge.runner.invoke(
            app, ["secret", "put", "TOKEN", "--name", "pair-api"], input="x\n"
        )
        assert refused.exit_code != 0 and "gradual deployment" in refused.output
        set_version(edge, "v3")
        edge.cli("deploy", "-m", "all in")  # a plain deploy: one version at 100% again
        wait_until(lambda: seen[-30:] == ["v3"] * 30, "traffic on v3 only")
        edge.cli("rollback", v2, "--name", "pair-api", "-y")
        wait_until(lambda: seen[-30:] == ["v2"] * 30, "traffic on v2 only")
    assert failures == []
    history = DeploymentLog(edge.paths.deployments).history("pair-api")
    assert [d.source for d in history][-3:] == ["versions deploy", "deploy", "rollback"]
    assert history[-1].split == [(v2, 100.0)]


def test_service_binding_calls_follow_the_split_and_a_restart_keeps_it(edge: Edge) -> None:
    edge.cli("deploy", "--all", "--edge-port", "0")
    r1 = DeploymentLog(edge.paths.deployments).current("pair-streaming").version_id
    index = edge.project / "src-streaming" / "index.py"
    index.write_text(index.read_text().replace('{"worker": "pair-streaming"}', '{"release": "r2"}'))
    out = edge.cli("versions", "upload", "-c", "wrangler-streaming.toml")
    r2 = re.search(rf"Worker Version ID: ({UUID})", out).group(1)  # type: ignore[union-attr]
    seen: list[str] = []
    failures: list[str] = []
    with traffic(edge, "/stream/health", seen, failures):
        wait_until(lambda: len(seen) >= 10, "calls through the binding")
        edge.cli("versions", "deploy", f"{r1}@50%", f"{r2}@50%", "--name", "pair-streaming", "-y")
        mark = len(seen)
        wait_until(lambda: {"r1", "r2"} <= set(seen[mark:]), "calls reaching both versions")
    assert failures == []
    edge.cli("edge", "stop")
    edge.cli("edge", "start", "--port", "0")
    status = json.loads(edge.cli("deployments", "status", "pair-streaming", "--json"))
    assert status["serving"] is True and len(status["versions"]) == 2
