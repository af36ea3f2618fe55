"""Choosing the next token from logits: repetition penalty, temperature, top-k, top-p, seed."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class Constraint(ABC):
    """Restricts which token may come next (JSON mode): masks the logits before each pick and
    follows each picked token. Once the answer is complete only stop tokens stay allowed."""

    @abstractmethod
    def restrict(self, logits: np.ndarray) -> np.ndarray:
        """A copy of ``logits`` with every token that may not come next at -inf."""

    @abstractmethod
    def advance(self, token: int) -> None:
        """``token`` was picked (never a stop token)."""


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int = 256
    temperature: float = 0.6  # Workers AI's default for its chat models; 0 means greedy
    top_p: float = 1.0
    top_k: int = 0  # 0: no top-k cut
    seed: int | None = None
    repetition_penalty: float = 1.0


def apply_repetition_penalty(logits: np.ndarray, seen: Sequence[int], penalty: float) -> np.ndarray:
    """CTRL-style penalty (as transformers and llama.cpp): divide positive logits, multiply negative."""
    if penalty == 1.0 or not seen:
        return logits
    ids = np.unique(np.asarray(seen, dtype=np.int64))
    out = logits.copy()
    vals = out[ids]
    out[ids] = np.where(vals > 0, vals / penalty, vals * penalty)
    return out


class Sampler:
    """Picks tokens from logits (already restricted by a constraint, if any)."""

    def __init__(self, params: SamplingParams) -> None:
        self.params = params
        self.rng = np.random.default_rng(params.seed)

    def pick(self, logits: np.ndarray, seen: Sequence[int]) -> int:
        p = self.params
        logits = apply_repetition_penalty(
            logits.astype(np.float32, copy=False), seen, p.repetition_penalty
        )
        if p.temperature <= 0:
            return int(np.argmax(logits))
        order = np.argsort(-logits, kind="stable")
        if p.top_k > 0:
            order = order[: p.top_k]
        order = order[np.isfinite(logits[order])]  # masked tokens never come back
        scaled = logits[order] / p.temperature
        probs = np.exp(scaled - scaled[0])
        probs /= probs.sum()
        if p.top_p < 1.0:
            keep = int(np.searchsorted(np.cumsum(probs), p.top_p) + 1)
            order, probs = order[:keep], probs[:keep] / probs[:keep].sum()
        return int(order[self.rng.choice(len(order), p=probs)])
