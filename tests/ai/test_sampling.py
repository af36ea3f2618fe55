from __future__ import annotations

import numpy as np

from wranglerpy.ai.sampling import Sampler, SamplingParams, apply_repetition_penalty

LOGITS = np.array([1.0, 3.0, 2.0, -1.0, 2.9], np.float32)


def test_greedy_takes_the_argmax() -> None:
    assert Sampler(SamplingParams(temperature=0)).pick(LOGITS, []) == 1


def test_masked_tokens_are_never_picked() -> None:
    masked = LOGITS.copy()
    masked[[1, 3, 4]] = -np.inf  # what a constraint leaves: only 0 and 2 may come next
    assert Sampler(SamplingParams(temperature=0)).pick(masked, []) == 2
    hot = Sampler(SamplingParams(temperature=5.0, seed=2))
    assert {hot.pick(masked, []) for _ in range(40)} == {0, 2}


def test_top_k_one_is_greedy_whatever_the_temperature() -> None:
    sampler = Sampler(SamplingParams(temperature=5.0, top_k=1, seed=1))
    assert {sampler.pick(LOGITS, []) for _ in range(20)} == {1}


def test_top_p_keeps_only_the_head() -> None:
    logits = np.array([10.0, 9.9, -10.0, -10.0], np.float32)
    sampler = Sampler(SamplingParams(temperature=1.0, top_p=0.9, seed=3))
    assert {sampler.pick(logits, []) for _ in range(50)} <= {0, 1}


def test_seed_makes_sampling_repeatable() -> None:
    def draw(seed: int) -> list[int]:
        sampler = Sampler(SamplingParams(temperature=1.5, seed=seed))
        return [sampler.pick(LOGITS, []) for _ in range(30)]

    assert draw(7) == draw(7)
    assert len(set(draw(7))) > 1


def test_repetition_penalty_divides_positive_and_multiplies_negative() -> None:
    out = apply_repetition_penalty(LOGITS, [1, 3], 2.0)
    assert out[1] == 1.5 and out[3] == -2.0 and out[0] == 1.0
    assert Sampler(SamplingParams(temperature=0, repetition_penalty=2.0)).pick(LOGITS, [1]) == 4
