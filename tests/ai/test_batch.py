"""Continuous batching: sequences share decode steps, join and leave between them, and each
gets exactly the tokens it gets alone."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from wranglerpy.ai import batch as batch_module
from wranglerpy.ai.batch import Batch, Decoding
from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.generate import Generation, TextModel
from wranglerpy.ai.models import SMOLLM2
from wranglerpy.ai.sampling import SamplingParams

REFERENCE = json.loads((Path(__file__).parent / "data" / "llamacpp-reference.json").read_text())


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path) -> TextModel:
    return TextModel(tiny_model_dir)


def ids_for(model: TextModel, text: str) -> list[int]:
    return model.encode(model.template.render([{"role": "user", "content": text}]))


def decoding(
    model: TextModel, ids: list[int], params: SamplingParams, cancel: threading.Event | None = None
) -> tuple[Decoding, list[int]]:
    out: list[int] = []
    seq = Decoding(model, ids, params, Generation(len(ids)), cancel, on_token=out.append)
    return seq, out


def run_staggered(batch: Batch, joins: dict[int, list[Decoding]]) -> int:
    """Step until every sequence is done, joining ``joins[step]`` before that step; the widest
    step seen is returned (how many sequences shared one forward)."""
    widest, step = 0, 0
    pending = dict(joins)
    while pending or batch.active:
        for seq in pending.pop(step, []):
            batch.join(seq)
        widest = max(widest, len(batch.active))
        batch.step()
        step += 1
    return widest


@pytest.mark.parametrize(
    "params",
    [
        SamplingParams(max_tokens=24, temperature=0),
        SamplingParams(max_tokens=24, temperature=1.1, seed=3),
    ],
)
def test_batched_sequences_get_the_tokens_they_get_alone(
    model: TextModel, params: SamplingParams
) -> None:
    prompts = [ids_for(model, text) for text in ("the cat", "a dog sat on the mat", "hi")]
    alone = [list(model.tokens(ids, params)) for ids in prompts]
    batch = Batch(model, max_rows=3)
    seqs = [decoding(model, ids, params) for ids in prompts]
    widest = run_staggered(batch, {0: [seqs[0][0]], 3: [seqs[1][0]], 5: [seqs[2][0]]})
    assert widest == 3
    assert [out for _, out in seqs] == alone


def test_a_sequence_leaving_mid_batch_leaves_the_others_intact(model: TextModel) -> None:
    """Different max_tokens: rows leave at different steps and the last row moves into the gap."""
    ids = [ids_for(model, text) for text in ("one", "two two", "three three three")]
    budgets = [3, 20, 9]
    alone = [
        list(model.tokens(p, SamplingParams(max_tokens=n, temperature=0)))
        for p, n in zip(ids, budgets, strict=True)
    ]
    batch = Batch(model, max_rows=3)
    seqs = [
        decoding(model, p, SamplingParams(max_tokens=n, temperature=0))
        for p, n in zip(ids, budgets, strict=True)
    ]
    run_staggered(batch, {0: [s for s, _ in seqs]})
    assert [out for _, out in seqs] == alone
    assert [s.state.finish_reason for s, _ in seqs] == ["length", "length", "length"]


def test_cancel_removes_one_sequence_between_steps(model: TextModel) -> None:
    params = SamplingParams(max_tokens=16, temperature=0)
    ids = [ids_for(model, "the cat"), ids_for(model, "the dog")]
    alone = list(model.tokens(ids[1], params))
    cancel = threading.Event()
    batch = Batch(model, max_rows=2)
    first, first_out = decoding(model, ids[0], params, cancel)
    second, second_out = decoding(model, ids[1], params)
    batch.join(first)
    batch.join(second)
    batch.step()
    cancel.set()
    batch.step()
    assert first.state.finish_reason == "cancelled" and len(first_out) == 2
    assert first not in batch.active
    while batch.active:
        batch.step()
    assert second_out == alone


def test_kv_rows_grow_while_sequences_are_active(
    model: TextModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Positions double several times mid-answer with two rows in use: nothing changes."""
    params = SamplingParams(max_tokens=20, temperature=0)
    prompts = [ids_for(model, "grow"), ids_for(model, "grow more please")]
    alone = [list(model.tokens(p, params)) for p in prompts]
    monkeypatch.setattr(batch_module, "KV_FIRST_CHUNK", 1)
    batch = Batch(model, max_rows=2)
    seqs = [decoding(model, p, params) for p in prompts]
    run_staggered(batch, {0: [seqs[0][0]], 2: [seqs[1][0]]})
    assert [out for _, out in seqs] == alone


@pytest.fixture(scope="module")
def real_model() -> Any:
    cache = ModelCache()
    if not cache.is_cached(SMOLLM2):
        pytest.skip(f"{SMOLLM2.name} is not cached; run `wranglerpy ai pull {SMOLLM2.name}`")
    return TextModel(cache.path(SMOLLM2))


@pytest.mark.slow
def test_real_model_batched_greedy_equals_llamacpp(real_model: TextModel) -> None:
    """Four sequences (both reference prompts, twice), joining at steps 0, 0, 7 and 40: each
    one's 128 greedy tokens equal llama.cpp's (tests/ai/data/llamacpp-reference.json)."""
    cases = [REFERENCE["cases"][name] for name in ("short", "long", "short", "long")]
    batch = Batch(real_model, max_rows=4)
    seqs = [
        decoding(
            real_model,
            case["prompt_token_ids"],
            SamplingParams(max_tokens=len(case["output_token_ids"]), temperature=0),
        )
        for case in cases
    ]
    widest = run_staggered(batch, {0: [seqs[0][0], seqs[1][0]], 7: [seqs[2][0]], 40: [seqs[3][0]]})
    assert widest == 4
    for (_, out), case in zip(seqs, cases, strict=True):
        assert out == case["output_token_ids"]
