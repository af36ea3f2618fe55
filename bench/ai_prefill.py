"""Prefill (time to first token) on the study's 36- and 484-token prompts: one vs two intra-op
threads in the same run, alternating, with the share of the prefill spent in MatMulNBits (from
onnxruntime's profiler) and the arithmetic rate it reaches.

    .venv/bin/python bench/ai_prefill.py          # RUNS=5 by default; needs `wranglerpy ai pull`

Why it matters: MatMulNBits already runs with accuracy_level=4 (int8 activations) everywhere,
and only the last position goes through the output head, so what is left is raw matmul
throughput on the cores onnxruntime may use.
"""

from __future__ import annotations

import collections
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = json.loads((ROOT / "tests" / "ai" / "data" / "llamacpp-reference.json").read_text())
RUNS = int(os.environ.get("RUNS", "5"))
PARAMS = 134_515_008  # SmolLM2-135M without the tied embedding's duplicate


def ttft(model: Any, ids: list[int]) -> float:
    from wranglerpy.ai.sampling import SamplingParams

    start = time.perf_counter()
    next(iter(model.tokens(ids, SamplingParams(max_tokens=1, temperature=0))))
    return time.perf_counter() - start


def matmul_share(model_dir: Path, ids: list[int]) -> float:
    """Fraction of one prefill's kernel time spent in MatMulNBits."""
    import onnxruntime as ort

    from wranglerpy.ai.generate import TextModel, session_options

    model = TextModel(model_dir, 1)
    with tempfile.TemporaryDirectory() as tmp:
        opts = session_options(1)
        opts.enable_profiling = True
        opts.profile_file_prefix = str(Path(tmp) / "prof")
        model.session = ort.InferenceSession(
            model.session._model_path,  # type: ignore[attr-defined]
            opts,
            providers=["CPUExecutionProvider"],
        )
        ttft(model, ids)
        events = json.loads(Path(model.session.end_profiling()).read_text())
    per_op: collections.Counter[str] = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            per_op[event["args"]["op_name"]] += event["dur"]
    return per_op["MatMulNBits"] / sum(per_op.values())


def main() -> int:
    from wranglerpy.ai.cache import ModelCache
    from wranglerpy.ai.generate import TextModel
    from wranglerpy.ai.models import SMOLLM2
    from wranglerpy.ai.sampling import SamplingParams

    cache = ModelCache()
    if not cache.is_cached(SMOLLM2):
        print("not cached; run `wranglerpy ai pull` first", file=sys.stderr)
        return 1
    path = cache.path(SMOLLM2)
    models = {threads: TextModel(path, threads) for threads in (1, 2)}
    report: dict[str, Any] = {"runs": RUNS, "cpus": os.cpu_count()}
    for name, case in REFERENCE["cases"].items():
        ids = case["prompt_token_ids"]
        times: dict[int, list[float]] = {1: [], 2: []}
        for model in models.values():
            ttft(model, ids)  # warm up
        for _ in range(RUNS):
            for threads, model in models.items():
                times[threads].append(ttft(model, ids))
        want = case["output_token_ids"][:32]
        params = SamplingParams(max_tokens=32, temperature=0)
        row: dict[str, Any] = {"prompt_tokens": len(ids)}
        for threads, model in models.items():
            median = statistics.median(times[threads])
            row[f"{threads}_thread"] = {
                "ttft_s": round(median, 3),
                "ms_per_prompt_token": round(median / len(ids) * 1000, 2),
                "gops": round(2 * PARAMS * len(ids) / median / 1e9, 1),
                "greedy_identical_32": list(model.tokens(ids, params)) == want,
            }
        row["matmulnbits_share"] = round(matmul_share(path, ids), 3)
        report[name] = row
    for name in REFERENCE["cases"]:
        r = report[name]
        one, two = r["1_thread"], r["2_thread"]
        print(
            f"{name:5} ({r['prompt_tokens']:3} tokens): TTFT 1 thread {one['ttft_s']} s "
            f"({one['ms_per_prompt_token']} ms/token, {one['gops']} GOP/s), 2 threads "
            f"{two['ttft_s']} s; MatMulNBits {r['matmulnbits_share']:.0%} of the prefill; "
            f"greedy identical: {one['greedy_identical_32']}/{two['greedy_identical_32']}"
        )
    if "--json" in sys.argv:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
