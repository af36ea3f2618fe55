from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from wranglerpy.ai import batch
from wranglerpy.ai.generate import Constraint, Generation, TextModel, TextStream
from wranglerpy.ai.sampling import SamplingParams


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path) -> TextModel:
    return TextModel(tiny_model_dir)


def prompt(model: TextModel) -> list[int]:
    return model.encode(model.template.render([{"role": "user", "content": "the cat"}]))


def test_greedy_is_deterministic_and_respects_max_tokens(model: TextModel) -> None:
    params = SamplingParams(max_tokens=12, temperature=0)
    state = Generation(prompt_tokens=0)
    first = list(model.tokens(prompt(model), params, state=state))
    assert first == list(model.tokens(prompt(model), params))
    assert len(first) <= 12
    assert state.token_ids == first
    assert state.finish_reason in ("length", "stop")


def test_seeded_sampling_repeats(model: TextModel) -> None:
    params = SamplingParams(max_tokens=10, temperature=1.2, seed=42)
    assert list(model.tokens(prompt(model), params)) == list(model.tokens(prompt(model), params))


def test_growing_the_shared_kv_buffer_changes_nothing(
    model: TextModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache starts at prompt + 1 position here and doubles three times mid-answer."""
    params = SamplingParams(max_tokens=20, temperature=1.0, seed=5)
    roomy = list(model.tokens(prompt(model), params))
    monkeypatch.setattr(batch, "KV_FIRST_CHUNK", 1)
    assert list(model.tokens(prompt(model), params)) == roomy
    assert len(roomy) > 8  # long enough to have grown the buffer


def test_stop_token_ends_generation(model: TextModel) -> None:
    # Forbid everything but the end-of-turn token: generation stops at once, with no output.
    class OnlyStop(Constraint):
        def restrict(self, logits: np.ndarray) -> np.ndarray:
            out = np.full_like(logits, -np.inf)
            out[model.meta.eos_token_id] = 0.0
            return out

        def advance(self, token: int) -> None:
            raise AssertionError("only the stop token may come")

    state = Generation(prompt_tokens=0)
    out = list(
        model.tokens(
            prompt(model),
            SamplingParams(max_tokens=5, temperature=0),
            constraint=OnlyStop(),
            state=state,
        )
    )
    assert out == [] and state.finish_reason == "stop"


def test_cancel_stops_between_steps(model: TextModel) -> None:
    cancel = threading.Event()
    state = Generation(prompt_tokens=0)
    got = []
    for token in model.tokens(
        prompt(model), SamplingParams(max_tokens=50, temperature=0), cancel, state=state
    ):
        got.append(token)
        if len(got) == 3:
            cancel.set()
    assert len(got) == 3 and state.finish_reason == "cancelled"


def test_text_stream_holds_back_partial_utf8(model: TextModel) -> None:
    stream = TextStream(model)
    ids = model.encode("é!")
    assert len(ids) == 3  # two bytes for é, then "!"
    assert stream.push(ids[0]) == ""
    assert stream.push(ids[1]) == "é"
    assert stream.push(ids[2]) == "!"
