"""Continuous batching: sequences share decode steps, join and leave between them, and each
gets exactly the tokens it gets alone."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from wranglerpy.ai import batch as batch_module
from wranglerpy.ai.batch import PREFILL_TOKENS, Batch, Decoding, prefill_groups
from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.generate import Generation, TextModel
from wranglerpy.ai.models import SMOLLM2
from wranglerpy.ai.sampling import SamplingParams

REFERENCE = json.loads((Path(__file__).parent / "data" / "llamacpp-reference.json").read_text())


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path) -> TextModel:
    return TextModel(tiny_model_dir)


@pytest.fixture
def tiny_model(tiny_model_dir: Path) -> TextModel:
    """A model of its own (a test swaps its sessions)."""
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


class CountingSession:
    """Counts the forwards run on a session (and how many rows each had)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.rows: list[int] = []

    def io_binding(self) -> Any:
        return self.inner.io_binding()

    def run_with_iobinding(self, binding: Any) -> None:
        self.inner.run_with_iobinding(binding)
        self.rows.append(binding.get_outputs()[0].shape()[0])


def prompts_of(*lengths: int) -> list[Decoding]:
    return [cast(Decoding, SimpleNamespace(prompt_ids=[1] * n)) for n in lengths]


def test_prefill_groups_bound_padding_and_size() -> None:
    groups = prefill_groups(prompts_of(36, 30, 480, 36, 484, 20, 400))
    assert [[len(s.prompt_ids) for s in g] for g in groups] == [
        [484, 480, 400],  # 400 >= 0.75 * 484
        [36, 36, 30],
        [20],  # 20 < 0.75 * 36: padding it would waste more than a quarter
    ]
    wide = prefill_groups(prompts_of(*[PREFILL_TOKENS // 3] * 7))
    assert [len(g) for g in wide] == [3, 3, 1]
    assert prefill_groups([]) == []


def test_sequences_joining_together_share_a_prefill_and_get_their_own_tokens(
    tiny_model_dir: Path,
) -> None:
    model = TextModel(tiny_model_dir)
    params = SamplingParams(max_tokens=12, temperature=0)
    texts = ("the cat sat", "the cat", "a dog sat on the mat", "hi")
    prompts = [ids_for(model, text) for text in texts]
    alone = [list(model.tokens(ids, params)) for ids in prompts]
    counting = CountingSession(model.prefill_session)
    model.prefill_session = counting
    batch = Batch(model, max_rows=4)
    seqs = [decoding(model, ids, params) for ids in prompts]
    batch.join_all([seq for seq, _ in seqs])
    assert len(batch.active) == 4
    want_groups = [len(g) for g in prefill_groups([seq for seq, _ in seqs])]
    assert counting.rows == want_groups and len(want_groups) < 4
    while batch.active:
        batch.step()
    assert [out for _, out in seqs] == alone


def test_a_prompt_that_fails_in_a_shared_prefill_fails_alone(tiny_model: TextModel) -> None:
    """One prompt holds a token id past the vocabulary: the shared forward fails, each prompt
    is prefilled alone again, and only that request gets the error."""
    params = SamplingParams(max_tokens=6, temperature=0)
    good = ids_for(tiny_model, "the cat sat")
    bad = list(good)
    bad[3] = tiny_model.vocab_size + 5
    alone = list(tiny_model.tokens(good, params))
    batch = Batch(tiny_model, max_rows=3)
    seqs = [decoding(tiny_model, ids, params) for ids in (good, bad, good)]
    batch.join_all([seq for seq, _ in seqs])
    assert seqs[1][0].state.finish_reason == "error" and seqs[1][0].error is not None
    assert [seq for seq, _ in seqs if seq in batch.active] == [seqs[0][0], seqs[2][0]]
    while batch.active:
        batch.step()
    assert seqs[0][1] == alone and seqs[2][1] == alone


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


@pytest.mark.slow
def test_real_model_prompts_prefilled_together_get_their_tokens_alone(
    real_model: TextModel,
) -> None:
    """The short reference prompt and two shorter cuts of it, right-padded in one forward:
    each sequence's 32 greedy tokens are its tokens alone (the first 32 of llama.cpp's for
    the whole prompt)."""
    ids = REFERENCE["cases"]["short"]["prompt_token_ids"]
    prompts = [ids, ids[:-3], ids[:-6]]
    params = SamplingParams(max_tokens=32, temperature=0)
    alone = [list(real_model.tokens(p, params)) for p in prompts]
    assert alone[0] == REFERENCE["cases"]["short"]["output_token_ids"][:32]
    batch = Batch(real_model, max_rows=3)
    seqs = [decoding(real_model, p, params) for p in prompts]
    assert len(prefill_groups([seq for seq, _ in seqs])) == 1
    batch.join_all([seq for seq, _ in seqs])
    while batch.active:
        batch.step()
    assert [out for _, out in seqs] == alone
