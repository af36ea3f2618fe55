"""Print wranglerpy's benchmark summary beside wrangler's, with ratios and the issue's goals.

python bench/compare.py RESULTS/summary-wranglerpy.json PEER/results/wrangler-4.86.0.summary.json
"""

from __future__ import annotations

import json
import statistics
import sys
from typing import Any


def _lat(col: dict[str, Any], path: str, key: str = "p50_ms") -> float | None:
    row = (col.get("lat") or {}).get(path)
    return row.get(key) if row else None


def hop_overhead(col: dict[str, Any]) -> float | None:
    """Median over runs of p50(/stream/health) - p50(/health), as the peer's summary does."""
    lat = col.get("lat") or {}
    hop, local = lat.get("api /stream/health"), lat.get("api /health")
    if not hop or not local:
        return None
    pairs = zip(hop.get("runs") or [], local.get("runs") or [], strict=False)
    diffs = [a["p50_ms"] - b["p50_ms"] for a, b in pairs]
    return statistics.median(diffs) if diffs else hop["p50_ms"] - local["p50_ms"]


def metrics(col: dict[str, Any]) -> dict[str, float | None]:
    wrk = col.get("wrk") or {}
    sse_runs = [r["t_first_ms"] for r in (col.get("sse") or {}).get("runs", []) if r.get("ok")]
    reload_runs = (col.get("reload") or {}).get("runs", [])
    reloads = [r["reload_s"] * 1000 for r in reload_runs if r.get("reload_s") is not None]
    errors = sum(r.get("errors_while_waiting", 0) for r in reload_runs)
    rss = col.get("rss") or {}
    return {
        "cold start s": (col.get("cold") or {}).get("median_s"),
        "hop overhead p50 ms": hop_overhead(col),
        "api /health p50 ms": _lat(col, "api /health"),
        "api /stream/health p50 ms": _lat(col, "api /stream/health"),
        "api /stream/kv p50 ms": _lat(col, "api /stream/kv?k=bench"),
        "api /stream/d1 p50 ms": _lat(col, "api /stream/d1"),
        "req/s /stream/health": (wrk.get("/stream/health") or {}).get("rps"),
        "req/s /health": (wrk.get("/health") or {}).get("rps"),
        "reload ms": statistics.median(reloads) if reloads else None,
        "errors during reloads": float(errors) if reload_runs else None,
        "first SSE event ms": statistics.median(sse_runs) if sse_runs else None,
        "idle RSS MB": rss.get("idle_rss_mb"),
        "peak RSS MB": rss.get("peak_rss_mb"),
    }


LOWER_IS_BETTER = {"req/s /stream/health": False, "req/s /health": False}


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def main(ours_path: str, peer_path: str) -> None:
    ours = {c["mode"]: c for c in json.load(open(ours_path))}
    peer = {c["mode"]: c for c in json.load(open(peer_path))}
    for mode in ("multi", "split"):
        if mode not in ours:
            continue
        mine, theirs = metrics(ours[mode]), metrics(peer.get(mode, {}))
        print(f"\n### mode: {mode}\n")
        print("| metric | wranglerpy | wrangler 4.86 | ratio (wranglerpy / wrangler) |")
        print("|---|---|---|---|")
        for key, value in mine.items():
            other = theirs.get(key)
            ratio = f"{value / other:.2f}×" if value is not None and other else "—"
            print(f"| {key} | {fmt(value)} | {fmt(other)} | {ratio} |")
        procs = (ours[mode].get("rss") or {}).get("procs") or []
        if procs:
            listed = ", ".join(f"{name} {mb} MB" for name, mb in procs)
            print(f"\nidle RSS per process (wranglerpy): {listed}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
