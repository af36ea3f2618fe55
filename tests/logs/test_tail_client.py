import os
from pathlib import Path

import pytest

from wranglerpy.errors import UsageError
from wranglerpy.host.locations import Locations, WorkerLocation
from wranglerpy.logs.tail_client import choose_entry


def register(registry: Locations, name: str, mode: str) -> None:
    registry.register(
        WorkerLocation(name, name, None, f"/tmp/{name}.sock", "", os.getpid(), mode, "/tmp/t")
    )


def test_one_runtime_is_picked_without_flags(tmp_path: Path) -> None:
    registry = Locations(tmp_path)
    register(registry, "api", "edge")
    assert choose_entry(registry, "api", None).mode == "edge"
    with pytest.raises(UsageError, match="not running under `wranglerpy dev`"):
        choose_entry(registry, "api", "dev")


def test_both_runtimes_need_mode(tmp_path: Path) -> None:
    registry = Locations(tmp_path)
    register(registry, "api", "edge")
    register(registry, "api", "dev")
    with pytest.raises(UsageError, match="--mode dev or --mode edge"):
        choose_entry(registry, "api", None)
    assert choose_entry(registry, "api", "dev").mode == "dev"


def test_unknown_worker_lists_what_runs(tmp_path: Path) -> None:
    registry = Locations(tmp_path)
    register(registry, "api", "dev")
    with pytest.raises(UsageError, match=r'"ghost" is not running.*Running now: api \(dev\)'):
        choose_entry(registry, "ghost", None)
    with pytest.raises(UsageError, match="--mode must be dev or edge"):
        choose_entry(registry, "api", "prod")


def test_a_worker_on_a_stopped_edge_is_told_to_start_it(tmp_path: Path) -> None:
    registry = Locations(tmp_path)
    with pytest.raises(UsageError, match=r"not running\. It is deployed.*`wranglerpy edge start`"):
        choose_entry(registry, "api", None, on_stopped_edge=True)
    with pytest.raises(UsageError, match="edge start"):
        choose_entry(registry, "api", "edge", on_stopped_edge=True)
    register(registry, "api", "dev")  # under dev meanwhile: that one is tailed
    assert choose_entry(registry, "api", None, on_stopped_edge=True).mode == "dev"
