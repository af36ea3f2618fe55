"""What the dashboard costs a `dev` session: CPU per request of the whole process tree and p50
latency, with the services process off, on (its feed follows the tail server), and on with a
dashboard page's live stream open.

    N=500 ROUNDS=3 .venv/bin/python bench/dashboard_overhead.py

Runs the pair fixture of ``hop_cpu.py`` (``/health`` and one service-binding hop
``/stream/health``); all variants run at once and take turns, round by round, so a change in
the machine's load hits them alike. The CPU of the services process counts (it is in the tree).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hop_cpu  # noqa: E402

ROOT = hop_cpu.ROOT
N = int(os.environ.get("N", "500"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
PATHS = ("/health", "/stream/health")
VARIANTS = {
    "services off": (["--no-services"], False),
    "dashboard feed": (["--services-port", "0"], False),
    "feed + open page": (["--services-port", "0"], True),
}


def read_stream(url: str, stop: threading.Event, seen: list[int]) -> None:
    """A page's live stream: read every event until told to stop."""
    with httpx.Client(timeout=None) as client, client.stream("GET", url + "api/stream") as r:
        for line in r.iter_lines():
            if line.startswith("event: event"):
                seen[0] += 1
            if stop.is_set():
                return


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from wranglerpy.testing import DevServer

    hop_cpu.N = N
    results: dict[str, dict[str, list[tuple[float, float]]]] = {
        v: {p: [] for p in PATHS} for v in VARIANTS
    }
    stop = threading.Event()
    seen = [0]
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="wranglerpy-dash-bench-"))
        servers = {}
        for i, (label, (args, page)) in enumerate(VARIANTS.items()):
            project = Path(tmp) / f"pair{i}"
            shutil.copytree(hop_cpu.FIXTURE, project)
            env = {"WRANGLERPY_REGISTRY_PATH": str(Path(tmp) / f"registry{i}"), "NO_COLOR": "1"}
            dev = stack.enter_context(
                DevServer("wrangler.toml", "wrangler-streaming.toml", cwd=project, watch=False,
                          environ=env, services="--no-services" not in args, extra_args=[
                              a for a in args if a != "--no-services"])
            )  # fmt: skip
            if page:
                found = re.search(r"Dashboard .* on (http://\S+/_dashboard/)", dev.output())
                assert found, dev.output()
                reader = threading.Thread(
                    target=read_stream, args=(found.group(1), stop, seen), daemon=True
                )
                reader.start()
            client = stack.enter_context(httpx.Client(base_url=dev.url("pair-api")))
            servers[label] = (client, hop_cpu.tree(dev.process.pid))
            for path in PATHS:
                for _ in range(100):
                    client.get(path).raise_for_status()
        print(f"{N} sequential requests per path, {ROUNDS} rounds; CPU ms/req, p50 ms")
        print(f"{'variant':<20}" + "".join(f"{p:>22}" for p in PATHS))
        for _ in range(ROUNDS):
            for path in PATHS:
                for label, (client, pids) in servers.items():
                    results[label][path].append(hop_cpu.measure(client, path, pids))
        stop.set()
    base: dict[str, tuple[float, float]] = {}
    for label, by_path in results.items():
        medians = {
            p: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
            for p, rs in by_path.items()
        }
        base = base or medians
        row = "".join(
            f"{medians[p][0]:>8.3f} (x{medians[p][0] / base[p][0]:.2f}) {medians[p][1]:>6.2f}"
            for p in PATHS
        )
        print(f"{label:<20}{row}", flush=True)
    print(f"events the open page received: {seen[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
