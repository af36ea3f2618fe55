"""Overhead of tracing on a service-binding hop: W3C ids (always on), OTLP export off and on.

    .venv/bin/python bench/tracing_overhead.py                    # 15 rounds of 200 per path
    ROUNDS=31 N=300 .venv/bin/python bench/tracing_overhead.py
    BASE=/tmp/main-src .venv/bin/python bench/tracing_overhead.py  # + a checkout before tracing

The effect is a few percent and a shared machine's noise is more, so the end-to-end part is
built to see through it: every variant's ``dev`` runs at once, and the variants take turns in
many short rounds (the order alternates each round) over the pair fixture of ``hop_cpu.py``
(``/health`` answered by pair-api itself, ``/stream/health`` one service-binding fetch, ``/rpc``
one RPC). Each round gives each variant's CPU ms per request (the whole process tree, in
nanoseconds from /proc/<pid>/task/<tid>/schedstat: /proc's tick counters are 10 ms coarse) and
p50 latency, and a *paired* ratio against the reference measured in the same round;
the report is the median ratio with its 10th-90th percentile spread across rounds. The export
variant posts to an in-process OTLP receiver on 127.0.0.1 that only counts what it gets.

What tracing adds is small beside that noise, so the second part times exactly that work
in-process and divides it by the request's CPU cost measured above: with the exporter off, a
hop's ``outgoing()`` (caller) and ``enter()`` (callee), against the trace id the runtime made
before W3C tracing; with it on, what ``dev``'s exporter spends on one request's two spans
(building them, the protobuf encoding, its share of the batched POST to a local receiver),
timed on the exporter's own thread.

``BASE`` is a source tree of an earlier wranglerpy (``git archive <commit> | tar -x -C DIR``):
its ``dev`` runs with ``PYTHONPATH=BASE`` so every process imports that code.
"""

from __future__ import annotations

import contextlib
import contextvars
import http.server
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hop_cpu  # noqa: E402

ROOT = hop_cpu.ROOT
N = int(os.environ.get("N", "200"))
ROUNDS = int(os.environ.get("ROUNDS", "15"))
WARMUP = 200
PATHS = hop_cpu.PATHS
HOPS = ("/stream/health", "/rpc")
OFF, ON = "W3C, export off", "W3C, OTLP export on"


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


Sample = tuple[float, float]  # (CPU ms per request, p50 ms)


def cpu_ns(pids: list[int]) -> int:
    """CPU time used so far by every thread of ``pids``, in nanoseconds."""
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
                    total += int(stat.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return total


def measure(client: httpx.Client, path: str, pids: list[int]) -> Sample:
    latencies = []
    before = cpu_ns(pids)
    for _ in range(N):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        latencies.append(time.perf_counter() - started)
    return (cpu_ns(pids) - before) / N / 1e6, statistics.median(latencies) * 1000


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} [p10 {quantile(values, 0.1):.3f}, p90 {quantile(values, 0.9):.3f}]"


def run_rounds(variants: dict[str, dict[str, str]]) -> dict[str, dict[str, list[Sample]]]:
    """Per variant and path, one sample per round; all variants' servers are up at once."""
    sys.path.insert(0, str(ROOT))
    from wranglerpy.testing import DevServer

    samples: dict[str, dict[str, list[Sample]]] = {v: {p: [] for p in PATHS} for v in variants}
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
            assert dev.process is not None
            client = stack.enter_context(httpx.Client(base_url=dev.url("pair-api")))
            servers[label] = (client, hop_cpu.tree(dev.process.pid))
            for path in PATHS:
                for _ in range(WARMUP):
                    client.get(path).raise_for_status()
        order = list(servers)
        for round_no in range(ROUNDS):
            turn = order if round_no % 2 == 0 else order[::-1]  # no variant always goes first
            for path in PATHS:
                for label in turn:
                    client, pids = servers[label]
                    samples[label][path].append(measure(client, path, pids))
            print(f"  round {round_no + 1}/{ROUNDS}", end="\r", file=sys.stderr, flush=True)
    return samples


def hop_tracing_us(loops: int = 20_000) -> tuple[float, float]:
    """(µs per hop of today's tracing work, µs of the trace id the runtime made before): the
    caller's ``outgoing()`` plus the callee's ``enter()``, as a binding hop runs them."""
    from wranglerpy.runtime import tracing

    def now() -> float:
        tracing.enter(tracing.new_trace_id())  # the public request's span
        started = time.perf_counter()
        for _ in range(loops):
            tracing.enter(tracing.outgoing())
            time.time_ns()  # the event's start_ns
        return (time.perf_counter() - started) / loops * 1e6

    before_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("t", default=None)

    def before() -> float:
        started = time.perf_counter()
        for _ in range(loops):
            before_var.set(before_var.get() or secrets.token_hex(8))
        return (time.perf_counter() - started) / loops * 1e6

    runs_now, runs_before = [], []
    for _ in range(15):  # interleaved, so a burst of load hits both alike
        runs_now.append(contextvars.Context().run(now))
        runs_before.append(contextvars.Context().run(before))
    return statistics.median(runs_now), statistics.median(runs_before)


def export_us_per_request(collector: str, requests: int = 3000) -> float:
    """CPU µs of ``dev``'s exporter thread per request of one binding hop (two spans)."""
    import asyncio

    from wranglerpy.tracing.otlp import OtlpExporter

    def event(worker: str, span: str, parent: str | None, **extra: str) -> dict[str, object]:
        return {"type": "request", "worker": worker, "trace": "4bf92f3577b34da6a3ce929d0e0e4736",
                "span": span, "parent_span": parent, "method": "GET", "path": "/stream/health",
                "url": "http://127.0.0.1:8787/stream/health", "status": 200, "outcome": "ok",
                "start_ns": time.time_ns(), "duration_ms": 1.5, "child_spans": [], **extra}  # fmt: skip

    async def run() -> float:
        exporter = OtlpExporter(collector + "/v1/traces").start()
        started = time.thread_time()
        for i in range(requests):
            exporter(event("pair-api", "00f067aa0ba902b7", None))
            exporter(event("pair-streaming", "00f067aa0ba902b8", "00f067aa0ba902b7",
                           caller="pair-api"))  # fmt: skip
            if i % 50 == 0:
                await asyncio.sleep(0)  # the exporter posts when a batch is full
        await exporter.close()
        return (time.thread_time() - started) / requests * 1e6

    return statistics.median(asyncio.run(run()) for _ in range(5))


def main() -> int:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    collector = f"http://127.0.0.1:{server.server_address[1]}"
    variants: dict[str, dict[str, str]] = {}
    base = os.environ.get("BASE")
    if base:
        variants["before (BASE)"] = {"PYTHONPATH": base}
    variants[OFF] = {}
    variants[ON] = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector}
    print(f"{ROUNDS} interleaved rounds x {N} sequential requests per path and variant")
    samples = run_rounds(variants)
    export_us = export_us_per_request(collector)
    server.shutdown()

    print("\nmedians over rounds: CPU ms/req and p50 ms")
    print(f"{'variant':<22}" + "".join(f"{p:>19}" for p in PATHS))
    for label, by_path in samples.items():
        row = "".join(
            f"{statistics.median(s[0] for s in by_path[p]):>10.3f}"
            f"{statistics.median(s[1] for s in by_path[p]):>9.3f}"
            for p in PATHS
        )
        print(f"{label:<22}{row}")

    reference = samples.get("before (BASE)") or samples[OFF]
    print("\npaired per-round ratios to the reference: median [p10, p90]")
    for label, by_path in samples.items():
        if by_path is reference:
            continue
        for path in HOPS:
            cpu = [s[0] / r[0] for s, r in zip(by_path[path], reference[path], strict=True)]
            p50 = [s[1] / r[1] for s, r in zip(by_path[path], reference[path], strict=True)]
            print(f"  {label:<20} {path:<15} CPU x{spread(cpu)}  p50 x{spread(p50)}")

    off = samples[OFF]
    hop_cpu_ms = {
        p: statistics.median(s[0] - h[0] for s, h in zip(off[p], off["/health"], strict=True))
        for p in HOPS
    }
    now_us, before_us = hop_tracing_us()
    print("\nexport off: tracing work per hop, timed in-process (median of 15 runs)")
    print(f"  today {now_us:.2f} µs, before W3C tracing {before_us:.2f} µs")
    for path in HOPS:
        request = statistics.median(s[0] for s in off[path]) * 1000
        print(
            f"  {path:<15} hop {hop_cpu_ms[path] * 1000:.0f} µs CPU, request {request:.0f} µs: "
            f"tracing is {now_us / (hop_cpu_ms[path] * 1000) * 100:.2f}% of the hop "
            f"({(now_us - before_us) / request * 100:+.2f}% of the request vs before)"
        )
    print("export on: the exporter's CPU per request, timed in-process (median of 5 runs)")
    for path in HOPS:
        request = statistics.median(s[0] for s in off[path]) * 1000
        print(
            f"  {path:<15} {export_us:.0f} µs of {request:.0f} µs: {export_us / request * 100:.2f}%"
        )
    print(f"OTLP posts received: {Receiver.posts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
