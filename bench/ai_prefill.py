"""Prefill (time to first token) on the study's 36- and 484-token prompts: the prompt on int8
activations (the decode session, ``WRANGLERPY_AI_PREFILL=int8``) vs float activations (the
prefill session, the default; prefill_graph.py), one intra-op thread, in the same run,
alternating, with the share of the prefill spent in MatMulNBits (onnxruntime's profiler), the
arithmetic rate reached, and greedy equality with llama.cpp over 32 tokens.

    .venv/bin/python bench/ai_prefill.py          # RUNS=5 by default; needs `wranglerpy ai pull`
    THREADS=2 .venv/bin/python bench/ai_prefill.py
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
THREADS = int(os.environ.get("THREADS", "1"))
MODES = ("int8", "float")
PARAMS = 134_515_008  # SmolLM2-135M without the tied embedding's duplicate


def ttft(model: Any, ids: list[int]) -> float:
    from wranglerpy.ai.sampling import SamplingParams

    start = time.perf_counter()
    next(iter(model.tokens(ids, SamplingParams(max_tokens=1, temperature=0))))
    return time.perf_counter() - start


def matmul_share(model_dir: Path, ids: list[int], mode: str) -> float:
    """Fraction of one prefill's kernel time spent in MatMulNBits."""
    import onnxruntime as ort

    from wranglerpy.ai.generate import TextModel, session_options

    model = TextModel(model_dir, THREADS, float_prefill=mode == "float")
    with tempfile.TemporaryDirectory() as tmp:
        opts = session_options(THREADS)
        opts.enable_profiling = True
        opts.profile_file_prefix = str(Path(tmp) / "prof")
        model.prefill_session = ort.InferenceSession(
            model.prefill_session._model_path,  # type: ignore[attr-defined]
            opts,
            providers=["CPUExecutionProvider"],
        )
        ttft(model, ids)
        events = json.loads(Path(model.prefill_session.end_profiling()).read_text())
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
    models = {mode: TextModel(path, THREADS, float_prefill=mode == "float") for mode in MODES}
    report: dict[str, Any] = {"runs": RUNS, "threads": THREADS, "load": os.getloadavg()[0]}
    for name, case in REFERENCE["cases"].items():
        ids = case["prompt_token_ids"]
        times: dict[str, list[float]] = {mode: [] for mode in MODES}
        for model in models.values():
            ttft(model, ids)  # warm up
        for _ in range(RUNS):
            for mode, model in models.items():
                times[mode].append(ttft(model, ids))
        want = case["output_token_ids"][:32]
        params = SamplingParams(max_tokens=32, temperature=0)
        row: dict[str, Any] = {"prompt_tokens": len(ids)}
        for mode, model in models.items():
            median = statistics.median(times[mode])
            row[mode] = {
                "ttft_s": round(median, 3),
                "ms_per_prompt_token": round(median / len(ids) * 1000, 2),
                "gops": round(2 * PARAMS * len(ids) / median / 1e9, 1),
                "greedy_identical_32": list(model.tokens(ids, params)) == want,
                "matmulnbits_share": round(matmul_share(path, ids, mode), 3),
            }
        row["float_speedup"] = round(row["int8"]["ttft_s"] / row["float"]["ttft_s"], 2)
        report[name] = row
    print(f"{THREADS} thread(s), median of {RUNS}, load average {report['load']:.1f}")
    for name in REFERENCE["cases"]:
        r = report[name]
        parts = [
            f"{mode} {r[mode]['ttft_s']} s ({r[mode]['ms_per_prompt_token']} ms/token, "
            f"{r[mode]['gops']} GOP/s, MatMulNBits {r[mode]['matmulnbits_share']:.0%}, "
            f"greedy identical: {r[mode]['greedy_identical_32']})"
            for mode in MODES
        ]
        print(f"{name:5} ({r['prompt_tokens']:3} tokens): " + "; ".join(parts))
        print(f"      float activations {r['float_speedup']}x faster")
    if "--json" in sys.argv:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
