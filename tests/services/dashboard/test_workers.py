"""The workers the dashboard lists: bindings from a real config (secret values never), URLs
from the registry entries of the process that started the services, not anyone else's."""

from __future__ import annotations

import os
from pathlib import Path

from wranglerpy.config.load import load_worker
from wranglerpy.host.locations import Locations, WorkerLocation
from wranglerpy.services.dashboard.workers import binding_rows, describe_workers
from wranglerpy.services.spec import ServicesSpec, spec_for

CONFIG = """
name = "api"
main = "entry.py"
compatibility_date = "2025-09-01"

[vars]
GREETING = "hi"

[[services]]
binding = "AUTH"
service = "auth"
entrypoint = "Checker"

[[kv_namespaces]]
binding = "KV"
id = "kv-1"
"""


def test_binding_rows_name_variables_but_never_secret_values(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    (tmp_path / "entry.py").write_text("")
    (tmp_path / ".dev.vars").write_text("TOKEN=s3cr3t\n")
    worker = load_worker(tmp_path / "wrangler.toml")
    rows = binding_rows(worker)
    assert ("AUTH", "Worker", "auth#Checker") in rows
    assert ("KV", "KV Namespace", "kv-1") in rows
    assert ("GREETING", "Environment Variable", "") in rows
    assert ("TOKEN", "Secret", "(hidden)") in rows
    assert "s3cr3t" not in repr(rows) and "hi" not in [r[2] for r in rows]
    # They travel to the services process in the spec.
    spec = spec_for([worker], tmp_path / "state")
    assert ServicesSpec.from_json(spec.to_json()).workers == (("api", rows),)


def test_urls_come_from_the_parents_registry_entries(tmp_path: Path) -> None:
    registry = Locations(tmp_path / "registry")
    mine = os.getpid()
    registry.register(WorkerLocation("api", "api", None, "/s", "http://127.0.0.1:1", mine))
    registry.register(WorkerLocation("extra", "extra", None, "/s", "http://127.0.0.1:2", mine))
    other = WorkerLocation("api", "api", None, "/s", "http://127.0.0.1:3", 1, mode="edge")
    registry.register(other)  # pid 1: another supervisor's, not this session's
    listed = describe_workers(
        (("api", (("KV", "KV Namespace", "kv-1"),)), ("idle", ())),
        "",
        registry,
        owner=mine,
    )
    assert [(w["name"], w["running"], w["url"]) for w in listed] == [
        ("api", True, "http://127.0.0.1:1"),
        ("idle", False, ""),
        ("extra", True, "http://127.0.0.1:2"),
    ]
    assert listed[0]["bindings"] == [{"binding": "KV", "kind": "KV Namespace", "target": "kv-1"}]
