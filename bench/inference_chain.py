"""The example app's chat chain: client → API worker → binding → streaming worker → AI.

    .venv/bin/python bench/inference_chain.py [--runs 7] [--tokens 32] [--concurrent 50]

Starts `wranglerpy dev` on examples/inference-ui (throw-away state, the cached models), then:
1. time to the first `message-part` and parts/s through the whole chain (API :port/stream/chat),
   through the streaming worker alone (its own port, /chat), and from the AI binding called
   directly in this process — each run with its own prompt, so the example's KV cache of
   deterministic answers never answers instead of the model;
2. `--concurrent` chat streams at once through the chain: each must end with `done`, or be
   refused up front with a clear 429/503 (counted apart), never fail mid-stream.
Medians; loopback only; everything started here is stopped here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "inference-ui"
MODEL = "@cf/meta/llama-3.1-8b-instruct"


def chat_body(prompt: str, tokens: int) -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "parts": [{"type": "text", "text": prompt}]}],
        "maxTokens": tokens,
        "temperature": 0,
    }


async def sse_chat(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """Time one chat stream: first message-part, parts, total; how it ended."""
    started = time.perf_counter()
    first = None
    parts = 0
    ended = "incomplete"
    async with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            await response.aread()
            return {"status": response.status_code, "ended": "refused", "body": response.text[:200]}
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            kind = event.get("type")
            if kind == "message-part":
                parts += 1
                if first is None:
                    first = time.perf_counter() - started
            elif kind == "error":
                ended = "error: " + str(event.get("error", {}).get("message"))
            elif kind == "done":
                ended = "done"
    total = time.perf_counter() - started
    rate = (parts - 1) / (total - first) if first is not None and parts > 1 else None
    return {
        "status": 200,
        "ended": ended,
        "first": first,
        "parts": parts,
        "total": total,
        "rate": rate,
    }


async def direct_ai(prompt: str, tokens: int) -> dict[str, Any]:
    """The same generation from the AI binding itself, in this process."""
    from wranglerpy.ai.binding import create
    from wranglerpy.config.schema import AIBinding

    ai = direct_ai.binding = getattr(direct_ai, "binding", None) or create(  # type: ignore[attr-defined]
        AIBinding("AI"), Path(tempfile.gettempdir())
    )
    started = time.perf_counter()
    first = None
    parts = 0
    stream = await ai.run(
        MODEL,
        {
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": tokens,
            "temperature": 0,
            "stream": True,
        },
    )
    async for chunk in stream:
        for line in chunk.decode().splitlines():
            if line.startswith("data:") and '"response"' in line:
                if json.loads(line[5:]).get("response"):
                    parts += 1
                    if first is None:
                        first = time.perf_counter() - started
    total = time.perf_counter() - started
    rate = (parts - 1) / (total - first) if first is not None and parts > 1 else None
    return {"first": first, "parts": parts, "total": total, "rate": rate}


def median(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.1f} ms"


async def measure(api: str, streaming: str, runs: int, tokens: int, concurrent: int) -> int:
    results: dict[str, list[dict[str, Any]]] = {"chain": [], "streaming": [], "direct": []}
    async with httpx.AsyncClient(timeout=120) as client:
        await sse_chat(client, api + "/stream/chat", chat_body("warm up", 4))
        await direct_ai("warm up", 4)
        for i in range(runs):
            # One prompt per run, the same for the three paths (the example caches answers
            # to deterministic requests, so each path's prompt gets a distinct suffix).
            prompt = f"Name one colour. ({i})"
            results["chain"].append(
                await sse_chat(client, api + "/stream/chat", chat_body(prompt + " a", tokens))
            )
            results["streaming"].append(
                await sse_chat(client, streaming + "/chat", chat_body(prompt + " b", tokens))
            )
            results["direct"].append(await direct_ai(prompt + " c", tokens))
        print(f"\n1. chat, {runs} runs, {tokens} tokens, greedy (median)")
        print("| path | first message-part | parts/s |")
        print("|---|---|---|")
        firsts = {}
        for path, label in (
            ("direct", "AI binding, in process"),
            ("streaming", "streaming worker /chat"),
            ("chain", "API /stream/chat (full chain)"),
        ):
            first = median([r.get("first") for r in results[path]])
            rate = median([r.get("rate") for r in results[path]])
            firsts[path] = first
            print(f"| {label} | {ms(first)} | {'—' if rate is None else f'{rate:.1f}'} |")
        if firsts["chain"] is not None and firsts["direct"] is not None:
            print(
                f"\nchain adds {ms(firsts['chain'] - firsts['direct'])} to the first token "
                f"(goal: under 5 ms); streaming worker alone adds "
                f"{ms((firsts['streaming'] or 0) - firsts['direct'])}"
            )
        bad = [r for path in ("chain", "streaming") for r in results[path] if r["ended"] != "done"]

        print(f"\n2. {concurrent} concurrent chat streams through the chain ({tokens} tokens each)")
        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(
                sse_chat(client, api + "/stream/chat", chat_body(f"Count to three. ({n})", tokens))
                for n in range(concurrent)
            ),
            return_exceptions=True,
        )
        elapsed = time.perf_counter() - started
        done = sum(1 for o in outcomes if isinstance(o, dict) and o["ended"] == "done")
        refused = [o for o in outcomes if isinstance(o, dict) and o["ended"] == "refused"]
        failed = [
            o for o in outcomes if not isinstance(o, dict) or o["ended"] not in ("done", "refused")
        ]
        print(
            f"completed {done}, refused up front {len(refused)} "
            f"({sorted({o['status'] for o in refused})}), failed {len(failed)}, in {elapsed:.1f} s"
        )
        for o in failed[:3]:
            print("  failure:", o)
        return 1 if failed or bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--concurrent", type=int, default=50)
    args = parser.parse_args()
    from wranglerpy.testing import DevServer

    with DevServer(
        EXAMPLE / "wrangler.toml",
        EXAMPLE / "wrangler-streaming.toml",
        cwd=EXAMPLE,
        watch=False,
        timeout=120,
    ) as dev:
        api = dev.url("inference-ui-api")
        streaming = dev.url("inference-ui-streaming")
        return asyncio.run(measure(api, streaming, args.runs, args.tokens, args.concurrent))


if __name__ == "__main__":
    sys.exit(main())
