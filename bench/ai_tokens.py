"""Local Workers AI speed: time to first token and decode tokens/s on the study's 36- and
484-token prompts (greedy, SmolLM2-135M on onnxruntime), through the model and through
``env.AI.run(stream=True)``; embeddings in ms per sentence; llama.cpp on the same GGUF as the
reference when ``llama_cpp`` is importable (else a note). It is not a dependency: build it in
a venv of its own and point ``LLAMA_CPP_SITE`` at that venv's site-packages (appended to the
path, so it cannot shadow this project's packages):

    python3 -m venv /tmp/llama && /tmp/llama/bin/pip install llama-cpp-python==0.3.36  # ~12 min
    LLAMA_CPP_SITE=/tmp/llama/lib/python3.11/site-packages .venv/bin/python bench/ai_tokens.py

On a CPU that advertises AMX/AVX-512 but where a VM does not let them run, the native build
dies with SIGILL (exit 132) when it loads the model; a portable build runs:

    export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    /tmp/llama/bin/pip install llama-cpp-python==0.3.36  # ~20 min

    .venv/bin/python bench/ai_tokens.py                   # 3 runs each, 128 new tokens
    RUNS=5 TOKENS=64 .venv/bin/python bench/ai_tokens.py
    .venv/bin/python bench/ai_tokens.py --json            # one JSON object at the end
    .venv/bin/python bench/ai_tokens.py --concurrency-only  # 1, 4, 8 concurrent streams
    .venv/bin/python bench/ai_tokens.py --json-mode-only    # JSON mode vs plain, 64/512 tokens
    LLAMA_CPP_SITE=... .venv/bin/python bench/ai_tokens.py --ttft-only  # interleaved with llama.cpp

Needs the models in the cache (``wranglerpy ai pull``). Figures are medians; on a shared
2-core box single runs vary by tens of percent.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = json.loads((ROOT / "tests" / "ai" / "data" / "llamacpp-reference.json").read_text())
RUNS = int(os.environ.get("RUNS", "3"))
TOKENS = int(os.environ.get("TOKENS", "128"))
THREADS = int(os.environ.get("THREADS", "1"))


def timed_stream(tokens: Iterator[Any], cpu: bool = False) -> tuple[float, float, list[Any]]:
    """(time to first item, decode items/s after the first, the items) of one generation.

    ``cpu``: this thread's CPU time instead of wall time (one intra-op thread runs on the
    caller's thread, so it is the whole generation's work, and a busy box distorts it less).
    """
    clock = time.thread_time if cpu else time.perf_counter
    start = clock()
    got: list[Any] = []
    first = 0.0
    for item in tokens:
        if not got:
            first = clock()
        got.append(item)
    end = clock()
    rate = (len(got) - 1) / (end - first) if len(got) > 1 and end > first else 0.0
    return first - start, rate, got


def median_of(run: Callable[[], tuple[float, float, list[Any]]]) -> dict[str, Any]:
    results = [run() for _ in range(RUNS)]
    return {
        "ttft_s": round(statistics.median(r[0] for r in results), 4),
        "decode_tok_s": round(statistics.median(r[1] for r in results), 1),
        "tokens": results[-1][2],
    }


def bench_onnx(model_dir: Path) -> dict[str, Any]:
    from wranglerpy.ai.generate import TextModel
    from wranglerpy.ai.sampling import SamplingParams

    start = time.perf_counter()
    model = TextModel(model_dir, THREADS)
    out: dict[str, Any] = {"load_s": round(time.perf_counter() - start, 3)}
    params = SamplingParams(max_tokens=TOKENS, temperature=0)
    for name, case in REFERENCE["cases"].items():
        ids: list[int] = case["prompt_token_ids"]

        def run(ids: list[int] = ids) -> tuple[float, float, list[Any]]:
            return timed_stream(model.tokens(ids, params))

        m = median_of(run)
        m["identical_to_llamacpp"] = m.pop("tokens") == case["output_token_ids"][:TOKENS]
        out[name] = {"prompt_tokens": len(ids), **m}
    return out


def bench_binding() -> dict[str, Any]:
    """The same short prompt through env.AI.run(stream=True): engine thread + SSE overhead."""
    from wranglerpy.ai.binding import create
    from wranglerpy.config.schema import AIBinding

    case = REFERENCE["cases"]["short"]
    inputs = {
        "messages": [{"role": "user", "content": case["user_message"]}],
        "temperature": 0,
        "max_tokens": TOKENS,
        "stream": True,
    }

    async def one(ai: Any) -> tuple[float, float, list[Any]]:
        start = time.perf_counter()
        stream = await ai.run("@cf/meta/llama-3.1-8b-instruct", inputs)
        events: list[bytes] = []
        first = 0.0
        async for chunk in stream:
            if not events:
                first = time.perf_counter()
            events.append(chunk)
        end = time.perf_counter()
        pieces = len(events) - 2  # the usage event and [DONE] carry no text
        return first - start, (pieces - 1) / (end - first), events

    async def main() -> dict[str, Any]:
        ai = create(AIBinding(binding="AI"), Path("."))
        await ai.run("@cf/meta/llama-3.1-8b-instruct", {"prompt": "Hi", "max_tokens": 1})
        results = [await one(ai) for _ in range(RUNS)]
        return {
            "ttft_s": round(statistics.median(r[0] for r in results), 4),
            "decode_pieces_s": round(statistics.median(r[1] for r in results), 1),
        }

    return asyncio.run(main())


def bench_concurrent(streams: tuple[int, ...] = (1, 4, 8)) -> dict[str, Any]:
    """Aggregate tokens/s of N concurrent greedy chats through the engine (continuous
    batching): every stream generates TOKENS tokens; wall time from the first request to
    the last token, prefill included."""
    from wranglerpy.ai.engine import Engine, TextRequest, TextResult
    from wranglerpy.ai.models import SMOLLM2
    from wranglerpy.ai.sampling import SamplingParams

    case = REFERENCE["cases"]["short"]
    request = TextRequest(
        params=SamplingParams(max_tokens=TOKENS, temperature=0),
        messages=[{"role": "user", "content": case["user_message"]}],
    )

    async def one(engine: Engine) -> int:
        async for item in engine.stream(SMOLLM2, request):
            if isinstance(item, TextResult):
                return len(item.generation.token_ids)
        return 0

    async def main() -> dict[str, Any]:
        engine = Engine(threads=THREADS, max_batch=max(streams))
        await one(engine)  # load
        out: dict[str, Any] = {}
        rates: dict[int, list[float]] = {n: [] for n in streams}
        cpu_rates: dict[int, list[float]] = {n: [] for n in streams}
        for _ in range(RUNS):  # 1, 4, 8 in turn each round: a load change hits all alike
            for n in streams:
                start, cpu = time.perf_counter(), time.process_time()
                counts = await asyncio.gather(*(one(engine) for _ in range(n)))
                rates[n].append(sum(counts) / (time.perf_counter() - start))
                # with one intra-op thread the process's CPU time is the work itself
                cpu_rates[n].append(sum(counts) / (time.process_time() - cpu))
        for n in streams:
            out[str(n)] = round(statistics.median(rates[n]), 1)
            out[f"cpu_{n}"] = round(statistics.median(cpu_rates[n]), 1)
        out["ratio_8_to_1"] = round(out[str(streams[-1])] / out[str(streams[0])], 2)
        out["cpu_ratio_8_to_1"] = round(out[f"cpu_{streams[-1]}"] / out[f"cpu_{streams[0]}"], 2)
        out["load"] = round(os.getloadavg()[0], 1)
        return out

    return asyncio.run(main())


JSON_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        # minItems keeps a small model writing until the 512-token budget runs out
        "steps": {"type": "array", "items": {"type": "string"}, "minItems": 80},
    },
    "required": ["title", "steps"],
}


def bench_json_mode(model_dir: Path, budgets: tuple[int, ...] = (64, 512)) -> dict[str, Any]:
    """Decode tokens/s with a JSON schema (llguidance mask each step) against the same prompt
    unconstrained, at 64 and 512 new tokens, per CPU second of the generating thread (with
    ``THREADS=1``). Long string items keep the answer going."""
    from wranglerpy.ai.generate import Generation, TextModel
    from wranglerpy.ai.guided import JsonGuide, guidance_tokenizer
    from wranglerpy.ai.sampling import SamplingParams

    model = TextModel(model_dir, THREADS)
    guidance_tokenizer(model)  # built once per model; not part of a request
    prompt = model.encode(
        model.template.render(
            [{"role": "user", "content": "Write a long recipe as JSON: a title and many steps."}]
        )
    )
    out: dict[str, Any] = {}
    for budget in budgets:
        params = SamplingParams(max_tokens=budget, temperature=0, repetition_penalty=1.1)
        row: dict[str, Any] = {}
        results: dict[str, list[tuple[float, float, list[Any]]]] = {"plain": [], "json": []}
        for _ in range(RUNS):  # alternating, so a load change on a shared box hits both alike
            for mode in ("plain", "json"):
                guide = JsonGuide(model, JSON_SCHEMA) if mode == "json" else None
                state = Generation(len(prompt))
                tokens = model.tokens(prompt, params, constraint=guide, state=state)
                results[mode].append(timed_stream(tokens, cpu=True))
        for mode, runs in results.items():
            row[mode] = {
                "decode_tok_s": round(statistics.median(r[1] for r in runs), 1),
                "tokens": len(runs[-1][2]),
            }
        row["mask_ms_per_token"] = mask_cost(model, results["json"][-1][2])
        row["json_vs_plain"] = round(row["json"]["decode_tok_s"] / row["plain"]["decode_tok_s"], 3)
        out[str(budget)] = row
    return out


def mask_cost(model: Any, tokens: list[int]) -> dict[str, float]:
    """The constraint's own time per token (mask + advance), replayed over an answer: median
    over its first and its last 64 tokens (flat means the cost does not grow with length)."""
    import numpy as np

    from wranglerpy.ai.guided import JsonGuide

    guide = JsonGuide(model, JSON_SCHEMA)
    logits = np.zeros(model.vocab_size, np.float32)
    times = []
    for token in tokens:
        start = time.perf_counter()
        guide.restrict(logits)
        guide.advance(token)
        times.append((time.perf_counter() - start) * 1000)
    return {
        "first_64": round(statistics.median(times[:64]), 3),
        "last_64": round(statistics.median(times[-64:]), 3),
    }


def print_json_mode(j: dict[str, Any]) -> None:
    for budget, row in j.items():
        print(
            f"  JSON mode, {budget} max tokens: {row['json']['decode_tok_s']} tok/s "
            f"({row['json']['tokens']} tokens) vs plain {row['plain']['decode_tok_s']} tok/s "
            f"({row['plain']['tokens']} tokens): {row['json_vs_plain']}x; mask "
            f"{row['mask_ms_per_token']['first_64']} ms/token (first 64), "
            f"{row['mask_ms_per_token']['last_64']} (last 64)"
        )


def bench_embeddings(model_dir: Path) -> dict[str, Any]:
    from wranglerpy.ai.embeddings import EmbeddingModel

    model = EmbeddingModel(model_dir, THREADS)
    sentences = [
        f"Sentence {i}: Workers AI runs models close to users, and bindings connect a Worker "
        "to other resources."
        for i in range(32)
    ]
    for _ in range(3):
        model.embed(sentences[:1])
    rounds = 30
    start = time.perf_counter()
    for i in range(rounds):
        model.embed([sentences[i % 32]])
    single = (time.perf_counter() - start) / rounds * 1000
    start = time.perf_counter()
    for _ in range(3):
        model.embed(sentences)
    batch = (time.perf_counter() - start) / 3 * 1000
    return {
        "ms_per_sentence_single": round(single, 2),
        "ms_per_sentence_batch32": round(batch / 32, 2),
        "dimensions": model.dimensions,
    }


def bench_llamacpp() -> dict[str, Any] | str:
    site = os.environ.get("LLAMA_CPP_SITE")
    if site:
        sys.path.append(site)
    try:
        from llama_cpp import Llama
    except ImportError:
        return (
            "llama_cpp is not installed: no reference run (pip has no wheel for it here; a "
            "source build took ~12 min in the study). Its figures from the study, same box: "
            "decode 52 tok/s (1 thread), TTFT 0.31 s (36 tokens) and 3.7-4.4 s (484 tokens)."
        )
    from wranglerpy.ai.model_download import fetch_artifact
    from wranglerpy.ai.models import SMOLLM2

    with tempfile.TemporaryDirectory(prefix="wranglerpy-bench-") as tmp:
        gguf = fetch_artifact(SMOLLM2.artifacts[0], Path(tmp) / "model.gguf")
        llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=THREADS, verbose=False)
        out: dict[str, Any] = {}
        for name, case in REFERENCE["cases"].items():
            ids = case["prompt_token_ids"]

            def run(ids: list[int] = ids) -> tuple[float, float, list[Any]]:
                llm.reset()
                gen = llm.generate(ids, top_k=1, temp=0.0, repeat_penalty=1.0)
                return timed_stream(tok for tok, _ in zip(gen, range(TOKENS), strict=False))

            m = median_of(run)
            m.pop("tokens")
            out[name] = {"prompt_tokens": len(ids), **m}
        return out


def bench_ttft_interleaved() -> dict[str, Any]:
    """Time to first token, wranglerpy (int8 and float prefill) and llama.cpp one after the
    other in every round, so a load change on a shared box hits all three alike."""
    site = os.environ.get("LLAMA_CPP_SITE")
    if site:
        sys.path.append(site)
    from llama_cpp import Llama

    from wranglerpy.ai.cache import ModelCache
    from wranglerpy.ai.generate import TextModel
    from wranglerpy.ai.model_download import fetch_artifact
    from wranglerpy.ai.models import SMOLLM2
    from wranglerpy.ai.sampling import SamplingParams

    path = ModelCache().path(SMOLLM2)
    ours = {
        mode: TextModel(path, THREADS, float_prefill=mode == "float") for mode in ("int8", "float")
    }
    one = SamplingParams(max_tokens=1, temperature=0)
    with tempfile.TemporaryDirectory(prefix="wranglerpy-bench-") as tmp:
        gguf = fetch_artifact(SMOLLM2.artifacts[0], Path(tmp) / "model.gguf")
        llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=THREADS, verbose=False)

        def llama_first(ids: list[int]) -> float:
            llm.reset()
            start = time.perf_counter()
            next(iter(llm.generate(ids, top_k=1, temp=0.0, repeat_penalty=1.0)))
            return time.perf_counter() - start

        def ours_first(model: Any, ids: list[int]) -> float:
            start = time.perf_counter()
            next(iter(model.tokens(ids, one)))
            return time.perf_counter() - start

        out: dict[str, Any] = {"load_before": round(os.getloadavg()[0], 1)}
        for name, case in REFERENCE["cases"].items():
            ids = case["prompt_token_ids"]
            times: dict[str, list[float]] = {"llama_cpp": [], "int8": [], "float": []}
            llama_first(ids)
            for model in ours.values():
                ours_first(model, ids)
            for _ in range(RUNS):
                times["llama_cpp"].append(llama_first(ids))
                for mode, model in ours.items():
                    times[mode].append(ours_first(model, ids))
            row = {k: round(statistics.median(v), 4) for k, v in times.items()}
            row["float_vs_llama_cpp"] = round(row["float"] / row["llama_cpp"], 2)
            row["int8_vs_llama_cpp"] = round(row["int8"] / row["llama_cpp"], 2)
            out[name] = {"prompt_tokens": len(ids), **row}
        out["load_after"] = round(os.getloadavg()[0], 1)
        return out


def print_concurrent(c: dict[str, Any]) -> None:
    rates = ", ".join(f"{n} streams {c[n]} tok/s" for n in c if n.isdigit())
    cpu = ", ".join(f"{n} streams {c[f'cpu_{n}']}" for n in c if n.isdigit())
    print(f"  concurrent greedy chats (aggregate): {rates}; 8 vs 1: {c['ratio_8_to_1']}x")
    print(
        f"  per CPU second of the process: {cpu} tok; 8 vs 1: {c['cpu_ratio_8_to_1']}x "
        f"(load average {c['load']})"
    )


def main() -> int:
    from wranglerpy.ai.cache import ModelCache
    from wranglerpy.ai.models import MINILM, SMOLLM2

    cache = ModelCache()
    missing = [m.name for m in (SMOLLM2, MINILM) if not cache.is_cached(m)]
    if missing:
        print(f"not cached: {', '.join(missing)}; run `wranglerpy ai pull` first", file=sys.stderr)
        return 1
    report: dict[str, Any] = {"runs": RUNS, "new_tokens": TOKENS, "threads": THREADS}
    if "--concurrency-only" in sys.argv:
        report["concurrent_tok_s"] = bench_concurrent()
        print_concurrent(report["concurrent_tok_s"])
        if "--json" in sys.argv:
            print(json.dumps(report))
        return 0
    if "--ttft-only" in sys.argv:
        report["ttft"] = t = bench_ttft_interleaved()
        for name in REFERENCE["cases"]:
            r = t[name]
            print(
                f"  TTFT {name:5} ({r['prompt_tokens']:3} tokens): llama.cpp {r['llama_cpp']:.3f} s, "
                f"wranglerpy float prefill {r['float']:.3f} s ({r['float_vs_llama_cpp']}x), "
                f"int8 prefill {r['int8']:.3f} s ({r['int8_vs_llama_cpp']}x)"
            )
        print(f"  load average {t['load_before']} -> {t['load_after']}")
        if "--json" in sys.argv:
            print(json.dumps(report))
        return 0
    if "--json-mode-only" in sys.argv:
        report["json_mode"] = bench_json_mode(cache.path(SMOLLM2))
        print_json_mode(report["json_mode"])
        if "--json" in sys.argv:
            print(json.dumps(report))
        return 0
    report["onnxruntime"] = bench_onnx(cache.path(SMOLLM2))
    report["binding_stream"] = bench_binding()
    report["concurrent_tok_s"] = bench_concurrent()
    report["json_mode"] = bench_json_mode(cache.path(SMOLLM2))
    report["embeddings"] = bench_embeddings(cache.path(MINILM))
    report["llama_cpp"] = bench_llamacpp()
    ort_ = report["onnxruntime"]
    print(f"SmolLM2-135M Q4_1, greedy, {TOKENS} new tokens, {THREADS} thread(s), median of {RUNS}")
    print(f"  load {ort_['load_s']} s")
    for name in REFERENCE["cases"]:
        r = ort_[name]
        print(
            f"  onnxruntime {name:5} ({r['prompt_tokens']:3} prompt tokens): TTFT {r['ttft_s']:.3f} s, "
            f"decode {r['decode_tok_s']} tok/s, identical to llama.cpp: {r['identical_to_llamacpp']}"
        )
    b = report["binding_stream"]
    print(f"  env.AI.run stream (short): TTFT {b['ttft_s']:.3f} s, {b['decode_pieces_s']} pieces/s")
    print_concurrent(report["concurrent_tok_s"])
    print_json_mode(report["json_mode"])
    e = report["embeddings"]
    print(
        f"  embeddings ({e['dimensions']} dims): {e['ms_per_sentence_single']} ms/sentence alone, "
        f"{e['ms_per_sentence_batch32']} ms/sentence in a batch of 32"
    )
    ref = report["llama_cpp"]
    if isinstance(ref, str):
        print(f"  llama.cpp: {ref}")
    else:
        for name in REFERENCE["cases"]:
            r = ref[name]
            print(
                f"  llama.cpp   {name:5} ({r['prompt_tokens']:3} prompt tokens): "
                f"TTFT {r['ttft_s']:.3f} s, decode {r['decode_tok_s']} tok/s"
            )
    if "--json" in sys.argv:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
