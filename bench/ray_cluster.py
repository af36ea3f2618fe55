"""What the Ray benchmarks share (``ray_bench.py``, ``ray_queues.py``, ``ray_do_bench.py``): a
local cluster on 127.0.0.1 (a head and named worker nodes, each ``ray start --block`` in its own
session, stopped by pid) with a scratch folder, both removed at the end; the wranglerpy CLI run
as a subprocess; and the stop of a private local edge."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class RayBench:
    """A running local cluster, its scratch folder and the environment the CLI needs to
    reach it (the cluster's auth token added to ours)."""

    cluster: Any  # wranglerpy.ray.local_cluster.LocalCluster
    work: Path
    env: dict[str, str]
    startup_seconds: float  # until the head and every node were alive


def _start(nodes: tuple[str, ...], attempts: int) -> Any:
    """A started cluster; a head that misses Ray's start-up deadline on a busy machine is
    started again (each failed attempt stopped by pid and its folder removed)."""
    import ray

    from wranglerpy.ray.local_cluster import LocalCluster

    for attempt in range(attempts):
        cluster = LocalCluster.create()
        try:
            cluster.start(nodes)
            return cluster
        except RuntimeError:
            ray.shutdown()  # this driver may have joined the failed cluster
            cluster.stop()
            shutil.rmtree(cluster.root, ignore_errors=True)
            if attempt == attempts - 1:
                raise
            print("the cluster did not start; again", file=sys.stderr, flush=True)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def local_cluster(
    nodes: tuple[str, ...] = ("node_a", "node_b"), prefix: str = "wrp-bench-", attempts: int = 3
) -> Iterator[RayBench]:
    """Start a head and ``nodes`` (up to ``attempts`` times); leave the cluster as a driver,
    stop it and remove every folder on the way out."""
    import ray

    work = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = None
    try:
        started = time.perf_counter()
        cluster = _start(nodes, attempts)
        startup = time.perf_counter() - started
        yield RayBench(cluster, work, dict(os.environ, **cluster.auth_env), startup)
    finally:
        ray.shutdown()  # the driver first: it holds a connection to the head
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(cluster.root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def cli(project: Path, env: dict[str, str], *args: str) -> str:
    """``wranglerpy ARGS`` in ``project``; its output, or exit with its error."""
    done = subprocess.run(
        [sys.executable, "-m", "wranglerpy", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise SystemExit(f"wranglerpy {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def stop_edge(project: Path, env: dict[str, str]) -> None:
    """Stop the local edge ``env`` points at (``WRANGLERPY_EDGE_DIR``), if it runs."""
    subprocess.run(
        [sys.executable, "-m", "wranglerpy", "edge", "stop"],
        env=env,
        cwd=project,
        capture_output=True,
        timeout=120,
    )
