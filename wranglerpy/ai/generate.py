"""A loaded text model and the single-sequence decode loop (prefill, then one token per step)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import onnxruntime as ort
from tokenizers import Tokenizer
from tokenizers.decoders import DecodeStream

from wranglerpy.ai.batch import Batch, Decoding
from wranglerpy.ai.batched_graph import batched_model_file
from wranglerpy.ai.chat_template import ChatTemplate
from wranglerpy.ai.prefill_graph import prefill_model_file
from wranglerpy.ai.sampling import Constraint, SamplingParams
from wranglerpy.ai.text import Generation
from wranglerpy.ai.tokenizer import TextModelMeta


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

    def __init__(self, model_dir: Path, threads: int = 1, float_prefill: bool = True) -> None:
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.meta = TextModelMeta.load(model_dir / "meta.json")
        self.template = ChatTemplate(self.meta.chat_template)
        graph = batched_model_file(model_dir / "model.onnx")
        self.session = ort.InferenceSession(
            str(graph), session_options(threads), providers=["CPUExecutionProvider"]
        )
        # Prompts (more than one new token per row) run on float activations: prefill_graph.py
        self.prefill_session = (
            ort.InferenceSession(
                str(prefill_model_file(graph)),
                session_options(threads),
                providers=["CPUExecutionProvider"],
            )
            if float_prefill
            else self.session
        )
        inputs = self.session.get_inputs()
        self.past_names = [i.name for i in inputs if i.name.startswith("past_")]
        first = next(i.shape for i in inputs if i.name.startswith("past_"))
        self.kv_heads, self.head_dim = int(first[1]), int(first[3])

    @property
    def batched_prefill(self) -> bool:
        """Only the prefill graph reads each row at its own length (prefill_graph.py), so only
        it can prefill prompts of different lengths in one forward."""
        return self.prefill_session is not self.session

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.get_vocab_size(with_added_tokens=True))

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
        """Yield generated token ids until a stop token, ``max_tokens`` or ``cancel`` is set.

        One sequence alone in a batch: the same code path the engine batches requests on.
        """
        state = state or Generation(prompt_tokens=len(prompt_ids))
        picked: list[int] = []
        seq = Decoding(self, prompt_ids, params, state, cancel, constraint, picked.append)
        batch = Batch(self)
        batch.join(seq)
        while True:
            yield from picked
            picked.clear()
            if seq.error is not None:
                raise seq.error
            if not batch.active:
                return
            batch.step()


class TextStream:
    """Turns token ids into text pieces with ``tokenizers``' ``DecodeStream``, which holds back
    an incomplete UTF-8 sequence until the token that completes it (constant work per token).

    ``flush()`` returns what is still held back at the end, so the pieces always add up to
    ``decode(all ids)`` (the text of the non-streamed result).
    """

    def __init__(self, model: TextModel) -> None:
        self._model = model
        self._stream = DecodeStream(skip_special_tokens=True)
        self._ids: list[int] = []
        self._emitted = 0  # characters handed out so far

    def push(self, token: int) -> str:
        self._ids.append(token)
        piece = self._stream.step(self._model.tokenizer, token)
        if not piece:
            return ""
        self._emitted += len(piece)
        return str(piece)

    def flush(self) -> str:
        """Whatever is still held back (an incomplete sequence at the very end)."""
        rest = self._model.decode(self._ids)[self._emitted :]
        self._emitted += len(rest)
        return rest
