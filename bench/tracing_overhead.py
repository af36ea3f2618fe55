"""Overhead of tracing on a service-binding hop: W3C ids always on, OTLP export off and on.

    .venv/bin/python bench/tracing_overhead.py                 # dx vs dx+OTLP
    BASE=/tmp/main-src .venv/bin/python bench/tracing_overhead.py  # + a checkout before tracing

``BASE`` is a source tree of an earlier wranglerpy (``git archive main | tar -x -C DIR``): its
``dev`` runs with ``PYTHONPATH=BASE`` so every process imports that code. Each variant runs the
pair fixture of ``hop_cpu.py`` (``/health``, one binding fetch ``/stream/health``, one ``/rpc``)
and reports CPU ms per request of the whole process tree and the p50 latency; the export variant
posts to an in-process OTLP receiver on 127.0.0.1 that only counts what it gets.
"""

from __future__ import annotations

import http.server
import os
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
N = int(os.environ.get("N", "1000"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
PATHS = hop_cpu.PATHS


class Receiver(http.server.BaseHTTPRequestHandler):
    posts = 0

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["content-length"]))
        Receiver.posts += 1
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def measure_all(variants: dict[str, dict[str, str]]) -> dict[str, dict[str, tuple[float, float]]]:
    """All variants' dev servers run at once and take turns, round by round, so a change in
    the machine's load hits every variant alike."""
    import contextlib

    sys.path.insert(0, str(ROOT))
    from wranglerpy.testing import DevServer

    hop_cpu.N = N
    results: dict[str, dict[str, list[tuple[float, float]]]] = {
        label: {p: [] for p in PATHS} for label in variants
    }
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="wranglerpy-trace-bench-"))
        servers = {}
        for i, (label, environ) in enumerate(variants.items()):
            project = Path(tmp) / f"pair{i}"
            shutil.copytree(hop_cpu.FIXTURE, project)
            env = {"WRANGLERPY_REGISTRY_PATH": str(Path(tmp) / f"registry{i}"), "NO_COLOR": "1"}
            extra = [] if "PYTHONPATH" in environ else ["--no-services"]
            dev = stack.enter_context(
                DevServer("wrangler.toml", "wrangler-streaming.toml", cwd=project, watch=False,
                          environ={**env, **environ}, extra_args=extra)
            )  # fmt: skip
            client = stack.enter_context(httpx.Client(base_url=dev.url("pair-api")))
            servers[label] = (client, hop_cpu.tree(dev.process.pid))
            for path in PATHS:
                for _ in range(200):
                    client.get(path).raise_for_status()
        for _ in range(ROUNDS):
            for path in PATHS:
                for label, (client, pids) in servers.items():
                    results[label][path].append(hop_cpu.measure(client, path, pids))
    out = {}
    for label, by_path in results.items():
        out[label] = {
            p: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
            for p, rs in by_path.items()
        }
        row = "".join(f"{out[label][p][0]:>10.3f}{out[label][p][1]:>9.3f}" for p in PATHS)
        print(f"{label:<22}{row}", flush=True)
    return out


def main() -> int:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    collector = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"{N} sequential requests per path, {ROUNDS} rounds; CPU ms/req and p50 ms per path")
    print(f"{'variant':<22}" + "".join(f"{p:>19}" for p in PATHS))
    variants: dict[str, dict[str, str]] = {}
    base = os.environ.get("BASE")
    if base:
        variants["before (BASE)"] = {"PYTHONPATH": base}
    variants["W3C, export off"] = {}
    variants["W3C, OTLP export on"] = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector}
    results = measure_all(variants)
    reference = results.get("before (BASE)") or results["W3C, export off"]
    for label, out in results.items():
        ratios = ", ".join(
            f"{p} CPU x{out[p][0] / reference[p][0]:.3f}" for p in ("/stream/health", "/rpc")
        )
        print(f"{label}: {ratios}")
    print(f"OTLP posts received: {Receiver.posts}")
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
