"""Choosing the next token from logits: repetition penalty, temperature, top-k, top-p, seed."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Returns whether a token may come next; used by constrained decoding.
TokenFilter = Callable[[int], bool]


class Constraint(ABC):
    """Restricts the next token given the text so far; ``done`` ends generation."""

    @abstractmethod
    def allowed(self, text: str) -> TokenFilter: ...

    @abstractmethod
    def done(self, text: str) -> bool: ...


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
    """Picks tokens; with ``allowed`` it only picks tokens the filter accepts, best first."""

    def __init__(self, params: SamplingParams) -> None:
        self.params = params
        self.rng = np.random.default_rng(params.seed)

    def pick(
        self, logits: np.ndarray, seen: Sequence[int], allowed: TokenFilter | None = None
    ) -> int:
        p = self.params
        logits = apply_repetition_penalty(
            logits.astype(np.float32, copy=False), seen, p.repetition_penalty
        )
        if p.temperature <= 0:
            if allowed is None:
                return int(np.argmax(logits))
            return _first_allowed(np.argsort(-logits, kind="stable"), allowed)
        order = np.argsort(-logits, kind="stable")
        if p.top_k > 0:
            order = order[: p.top_k]
        if allowed is not None:
            scaled = logits[order] / p.temperature
            weights = np.exp(scaled - scaled[0])
            order = _allowed_prefix(order, allowed, np.cumsum(weights) / weights.sum())
        scaled = logits[order] / p.temperature
        probs = np.exp(scaled - scaled[0])
        probs /= probs.sum()
        if p.top_p < 1.0:
            keep = int(np.searchsorted(np.cumsum(probs), p.top_p) + 1)
            order, probs = order[:keep], probs[:keep] / probs[:keep].sum()
        return int(order[self.rng.choice(len(order), p=probs)])


def _first_allowed(order: np.ndarray, allowed: TokenFilter) -> int:
    for tok in order:
        if allowed(int(tok)):
            return int(tok)
    raise ValueError("no token is allowed here")


def _allowed_prefix(
    order: np.ndarray,
    allowed: TokenFilter,
    cumulative: np.ndarray,
    want: int = 16,
    mass: float = 0.999,
) -> np.ndarray:
    """Allowed candidates in probability order: ``want`` of them, or fewer once the tokens not
    yet checked hold under ``1 - mass`` of the probability (checking every token is slow)."""
    picked: list[int] = []
    for i, tok in enumerate(order):
        if allowed(int(tok)):
            picked.append(int(tok))
            if len(picked) >= want:
                break
        if picked and cumulative[i] >= mass:
            break
    if not picked:
        raise ValueError("no token is allowed here")
    return np.asarray(picked, dtype=np.int64)
