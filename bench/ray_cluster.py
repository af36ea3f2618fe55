"""What the Ray benchmarks share (``ray_bench.py``, ``ray_queues.py``): a local cluster on
127.0.0.1 (a head and named worker nodes, each ``ray start --block`` in its own session,
stopped by pid) with a scratch folder, both removed at the end; the wranglerpy CLI run as a
subprocess; and the stop of a private local edge."""

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


@contextlib.contextmanager
def local_cluster(
    nodes: tuple[str, ...] = ("node_a", "node_b"), prefix: str = "wrp-bench-"
) -> Iterator[RayBench]:
    """Start a head and ``nodes``; stop them and remove every folder on the way out."""
    from wranglerpy.ray.local_cluster import LocalCluster

    work = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = LocalCluster.create()
    try:
        started = time.perf_counter()
        cluster.start(nodes)
        startup = time.perf_counter() - started
        yield RayBench(cluster, work, dict(os.environ, **cluster.auth_env), startup)
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(cluster.root, ignore_errors=True)


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
