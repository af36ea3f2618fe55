"""The decode loop: prefill the prompt, then one token per step with the KV cache fed back."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from wranglerpy.ai.chat_template import ChatTemplate
from wranglerpy.ai.sampling import Sampler, SamplingParams, TokenFilter
from wranglerpy.ai.tokenizer import TextModelMeta


class Constraint(ABC):
    """Restricts the next token given the text so far; ``done`` ends generation."""

    @abstractmethod
    def allowed(self, text: str) -> TokenFilter: ...

    @abstractmethod
    def done(self, text: str) -> bool: ...


@dataclass
class Generation:
    """Running totals for one request; the engine reads them for ``usage``."""

    prompt_tokens: int
    token_ids: list[int] = field(default_factory=list)
    finish_reason: str = "length"


def session_options(threads: int) -> ort.SessionOptions:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # On a 2-core box one thread per session beats two spinning ones (study: 2-3x under load).
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


class TextModel:
    """A converted model directory: ``model.onnx``, ``tokenizer.json``, ``meta.json``."""

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.meta = TextModelMeta.load(model_dir / "meta.json")
        self.template = ChatTemplate(self.meta.chat_template)
        self.session = ort.InferenceSession(
            str(model_dir / "model.onnx"),
            session_options(threads),
            providers=["CPUExecutionProvider"],
        )
        self._past = [i.name for i in self.session.get_inputs() if i.name.startswith("past_")]
        first = self.session.get_inputs()[1].shape
        self._kv_heads, self._head_dim = int(first[1]), int(first[3])
        self._outputs = ["logits"] + [n.replace("past_", "present_") for n in self._past]
        self._pieces: list[str] | None = None

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.get_vocab_size(with_added_tokens=True))

    def token_pieces(self) -> list[str]:
        """Each token's text on its own (special tokens as ``""``); built once, for constraints."""
        if self._pieces is None:
            stops = set(self.meta.stop_token_ids)
            decoded = self.tokenizer.decode_batch(
                [[i] for i in range(self.vocab_size)], skip_special_tokens=True
            )
            self._pieces = ["" if i in stops else str(piece) for i, piece in enumerate(decoded)]
        return self._pieces

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=True))

    def tokens(
        self,
        prompt_ids: list[int],
        params: SamplingParams,
        cancel: threading.Event | None = None,
        constraint: Constraint | None = None,
        state: Generation | None = None,
    ) -> Iterator[int]:
        """Yield generated token ids until a stop token, ``max_tokens`` or ``cancel`` is set."""
        state = state or Generation(prompt_tokens=len(prompt_ids))
        sampler = Sampler(params)
        cache = _KVCache(self, len(prompt_ids) + min(params.max_tokens, KV_FIRST_CHUNK))
        current = np.asarray([prompt_ids], dtype=np.int64)
        total = len(prompt_ids)
        seen = list(prompt_ids)
        stops = set(self.meta.stop_token_ids)
        for _ in range(params.max_tokens):
            if cancel is not None and cancel.is_set():
                state.finish_reason = "cancelled"
                return
            logits = cache.run(current, total)
            allowed = None
            if constraint is not None:
                text = self.decode(state.token_ids)
                if constraint.done(text):
                    state.finish_reason = "stop"
                    return
                allowed = constraint.allowed(text)
            token = sampler.pick(logits, seen, allowed)
            if token in stops:
                state.finish_reason = "stop"
                return
            state.token_ids.append(token)
            seen.append(token)
            yield token
            current = np.asarray([[token]], dtype=np.int64)
            total += 1


KV_FIRST_CHUNK = 256  # positions allocated past the prompt at first; doubled when full


class _KVCache:
    """One generation's KV cache: past and present share one buffer per tensor.

    GroupQueryAttention writes the new positions in place when its past and present outputs
    are the same memory, so a step no longer copies the whole cache (that copy cost ~20% of
    decode speed at 600 positions). The buffer grows by doubling, copying once per growth.
    """

    def __init__(self, model: TextModel, positions: int) -> None:
        self._model = model
        self._binding = model.session.io_binding()
        self._binding.bind_output("logits")  # first, so it is output 0
        self._buffers: dict[str, np.ndarray] = {}
        self._values: list[ort.OrtValue] = []  # keep the bound views alive with their arrays
        self._allocate(positions, filled=0)

    def _allocate(self, positions: int, filled: int) -> None:
        m = self._model
        self._values = []
        for name in m._past:
            fresh = np.zeros((1, m._kv_heads, positions, m._head_dim), np.float32)
            old = self._buffers.get(name)
            if old is not None:
                fresh[:, :, :filled] = old[:, :, :filled]
            self._buffers[name] = fresh
            value = ort.OrtValue.ortvalue_from_numpy(fresh)
            self._values.append(value)
            self._binding.bind_ortvalue_input(name, value)
            self._binding.bind_ortvalue_output(name.replace("past_", "present_"), value)

    def run(self, input_ids: np.ndarray, total: int) -> np.ndarray:
        """Logits for the last of ``input_ids``, ``total`` positions filled after it."""
        capacity = next(iter(self._buffers.values())).shape[2]
        if total > capacity:
            self._allocate(max(total, capacity * 2), filled=total - input_ids.shape[1])
        self._binding.bind_cpu_input("input_ids", input_ids)
        self._binding.bind_cpu_input("total_sequence_length", np.array(total, dtype=np.int32))
        self._model.session.run_with_iobinding(self._binding)
        logits: np.ndarray = self._binding.get_outputs()[0].numpy()[0, -1]
        return logits


class TextStream:
    """Turns token ids into text pieces, holding back incomplete UTF-8 sequences.

    Decodes only a short window (from the last emitted token on), so a long answer costs the
    same per token as a short one; byte-level BPE pieces only join with their neighbours.
    """

    def __init__(self, model: TextModel) -> None:
        self._model = model
        self._ids: list[int] = []
        self._prefix = 0  # window start
        self._read = 0  # tokens already turned into emitted text

    def push(self, token: int) -> str:
        self._ids.append(token)
        before = self._model.decode(self._ids[self._prefix : self._read])
        now = self._model.decode(self._ids[self._prefix :])
        if len(now) <= len(before) or now.endswith("\ufffd"):
            return ""
        self._prefix, self._read = self._read, len(self._ids)
        return now[len(before) :]

    def flush(self) -> str:
        """Whatever is still held back (an incomplete sequence at the very end)."""
        before = self._model.decode(self._ids[self._prefix : self._read])
        now = self._model.decode(self._ids[self._prefix :])
        self._prefix = self._read = len(self._ids)
        return now[len(before) :]
