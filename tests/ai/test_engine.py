"""The engine batches concurrent generations: same answers as one at a time, per-request
cancellation, the capacity error past ``max_pending``."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.engine import Engine, TextRequest, TextResult
from wranglerpy.ai.model_download import Progress
from wranglerpy.ai.models import SMOLLM2, Artifact
from wranglerpy.ai.sampling import SamplingParams
from wranglerpy.errors import AIError

REFERENCE = json.loads((Path(__file__).parent / "data" / "llamacpp-reference.json").read_text())


@pytest.fixture
def batching_engine(tmp_path: Path, tiny_gguf: Path) -> Engine:
    def fetch(artifact: Artifact, target: Path, progress: Progress | None) -> Path:
        shutil.copyfile(tiny_gguf, target)
        return target

    return Engine(ModelCache(tmp_path / "cache", fetcher=fetch), max_pending=6, max_batch=3)


def request(text: str, max_tokens: int = 12, **sampling: float) -> TextRequest:
    return TextRequest(
        params=SamplingParams(max_tokens=max_tokens, **sampling),  # type: ignore[arg-type]
        messages=[{"role": "user", "content": text}],
    )


async def collect(engine: Engine, req: TextRequest) -> tuple[str, TextResult]:
    pieces: list[str] = []
    async for item in engine.stream(SMOLLM2, req):
        if isinstance(item, TextResult):
            return "".join(pieces), item
        pieces.append(item)
    raise AssertionError("no result")


async def test_concurrent_requests_answer_as_they_do_one_at_a_time(
    batching_engine: Engine,
) -> None:
    """Five requests, three rows: two wait for a free row, all answer as they do alone."""
    reqs = [
        request("the cat", temperature=0),
        request("a dog", 20, temperature=0),
        request("hello there", 5, temperature=1.0, seed=7),
        request("the mat", temperature=0.8, seed=1),
        request("sat", 3, temperature=0),
    ]
    alone = [await collect(batching_engine, r) for r in reqs]
    together = await asyncio.gather(*(collect(batching_engine, r) for r in reqs))
    assert [(text, res.generation.token_ids) for text, res in together] == [
        (text, res.generation.token_ids) for text, res in alone
    ]
    assert all(text == res.text for text, res in together)
    assert batching_engine.pending == 0


async def test_cancelling_one_stream_leaves_the_others_running(batching_engine: Engine) -> None:
    alone = await collect(batching_engine, request("the dog", 30, temperature=0))
    doomed = batching_engine.stream(SMOLLM2, request("the cat", 400, temperature=1.0, seed=2))
    other = asyncio.create_task(collect(batching_engine, request("the dog", 30, temperature=0)))
    first = await doomed.__anext__()
    assert isinstance(first, str)
    await doomed.aclose()
    text, result = await other
    assert (text, result.generation.token_ids) == (alone[0], alone[1].generation.token_ids)
    assert batching_engine.pending == 0


async def test_capacity_error_counts_running_and_waiting(batching_engine: Engine) -> None:
    await collect(batching_engine, request("load", 1))
    streams = [
        batching_engine.stream(SMOLLM2, request("x", 300, temperature=1.0)) for _ in range(6)
    ]
    with pytest.raises(AIError, match="3040: Capacity temporarily exceeded"):
        batching_engine.stream(SMOLLM2, request("one more", 1))
    for s in streams:
        await s.aclose()


@pytest.mark.slow
async def test_real_model_concurrent_streams_equal_llamacpp() -> None:
    """Four concurrent greedy chats through the engine (both reference prompts, twice), each
    128/128 tokens equal to llama.cpp's."""
    cache = ModelCache()
    if not cache.is_cached(SMOLLM2):
        pytest.skip(f"{SMOLLM2.name} is not cached; run `wranglerpy ai pull {SMOLLM2.name}`")
    engine = Engine(cache, max_batch=4)
    cases = [REFERENCE["cases"][name] for name in ("short", "long", "long", "short")]
    reqs = [
        request(case["user_message"], len(case["output_token_ids"]), temperature=0)
        for case in cases
    ]
    results = await asyncio.gather(*(collect(engine, r) for r in reqs))
    for (_, result), case in zip(results, cases, strict=True):
        assert result.generation.token_ids == case["output_token_ids"]
