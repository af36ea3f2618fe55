"""Latency of the CLI's calls to the local edge daemon (its control socket).

    .venv/bin/python bench/edge_control.py              # 50 calls of each kind
    CALLS=200 .venv/bin/python bench/edge_control.py

Starts an edge (any free port, no services) in a private state dir, deploys the deploy
tests' two-worker fixture so ``status`` has workers to describe, then times:

- ``status``: ``EdgeStatus.status()``, one control call from this process (what every
  command that asks the edge does);
- ``edge status``: the whole ``wranglerpy edge status`` command, run in-process with
  typer's CliRunner (reading ``edge.json``, the call, printing).

Prints medians and p90 in milliseconds as JSON. Loopback only; the edge is stopped (by pid).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "deploy" / "fixtures" / "pair"
CALLS = int(os.environ.get("CALLS", "50"))


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1] * 1000, 3),
        "calls": len(ordered),
    }


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="wranglerpy-bench-control-"))
    os.environ["WRANGLERPY_EDGE_DIR"] = str(tmp / "edge")
    os.environ["WRANGLERPY_REGISTRY_PATH"] = str(tmp / "registry")
    project = tmp / "pair"
    shutil.copytree(FIXTURE, project)
    os.chdir(project)

    from typer.testing import CliRunner

    from wranglerpy.cli.main import app
    from wranglerpy.deploy.client import running_edge, start_edge, stop_edge
    from wranglerpy.deploy.paths import EdgePaths

    paths = EdgePaths.resolve(tmp / "edge")
    runner = CliRunner()
    try:
        start_edge(paths, port=0, services=False)
        deployed = runner.invoke(app, ["deploy", "--all"])
        if deployed.exit_code != 0:
            print(deployed.output, file=sys.stderr)
            return 1
        edge = running_edge(paths)
        assert edge is not None
        edge.status()  # warm: imports, the daemon's first answer
        calls = []
        for _ in range(CALLS):
            started = time.perf_counter()
            edge.status()
            calls.append(time.perf_counter() - started)
        commands = []
        for _ in range(CALLS):
            started = time.perf_counter()
            result = runner.invoke(app, ["edge", "status"])
            commands.append(time.perf_counter() - started)
            assert result.exit_code == 0, result.output
        print(
            json.dumps(
                {"status": summary(calls), "edge status": summary(commands)},
                indent=2,
            )
        )
    finally:
        stop_edge(paths)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
