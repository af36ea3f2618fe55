"""Continuous batching: every active generation of a model shares one forward pass per step.

A :class:`Batch` holds one KV buffer per layer tensor shaped ``[rows, kv_heads, positions,
head_dim]``; row ``i`` belongs to the ``i``-th active :class:`Decoding`. A sequence joins
between steps (its prompt is prefilled into its own row), then each :meth:`Batch.step` runs
one forward over rows ``0..n-1`` with one new token each, GroupQueryAttention masking every
row at its own length (``seqlens_k``). A sequence that finishes leaves at once; the last row
moves into its place so the active rows stay a prefix (one contiguous view to bind).

Rows never see each other's positions and the int8 matmul accumulates each row on its own,
so a sequence's greedy tokens are the same alone or in a batch (tests/ai/test_batch.py and
the real-model reference test).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from wranglerpy.ai.sampling import Sampler, SamplingParams

if TYPE_CHECKING:
    from wranglerpy.ai.generate import TextModel
    from wranglerpy.ai.sampling import Constraint
    from wranglerpy.ai.text import Generation

KV_FIRST_CHUNK = 256  # positions allocated past the prompt at first; doubled when full
# One prefill forward holds at most this many (padded) prompt tokens: its activations and
# attention scratch grow with it, and past a few hundred rows the matmuls gain nothing more.
PREFILL_TOKENS = 2048
PREFILL_PADDING = 0.25  # a prompt joins a group when padding it costs at most this share


def prefill_groups(seqs: list[Decoding]) -> list[list[Decoding]]:
    """The prompts of ``seqs`` in groups that share a forward: longest first, a prompt joins
    the current group while the group's padded size stays within ``PREFILL_TOKENS`` and the
    prompt is at least ``1 - PREFILL_PADDING`` of the group's longest."""
    groups: list[list[Decoding]] = []
    for seq in sorted(seqs, key=lambda s: -len(s.prompt_ids)):
        n = len(seq.prompt_ids)
        if groups:
            group = groups[-1]
            width = len(group[0].prompt_ids)
            if width * (len(group) + 1) <= PREFILL_TOKENS and n >= (1 - PREFILL_PADDING) * width:
                group.append(seq)
                continue
        groups.append([seq])
    return groups


class Decoding:
    """One generation's decoding state: picks its next token from its row of logits."""

    def __init__(
        self,
        model: TextModel,
        prompt_ids: list[int],
        params: SamplingParams,
        state: Generation,
        cancel: threading.Event | None = None,
        constraint: Constraint | None = None,
        on_token: Callable[[int], None] = lambda token: None,
        on_finish: Callable[[Decoding], None] = lambda seq: None,
    ) -> None:
        self.model = model
        self.prompt_ids = prompt_ids
        self.params = params
        self.state = state
        self.cancel = cancel
        self.constraint = constraint
        self.on_token = on_token
        self.on_finish = on_finish
        self.sampler = Sampler(params)
        self.seen = list(prompt_ids)
        self.stops = set(model.meta.stop_token_ids)
        self.length = 0  # positions in the KV row
        self.next_token = -1
        self.error: BaseException | None = None
        self.finished = False

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def finish(self, reason: str, error: BaseException | None = None) -> None:
        self.state.finish_reason = reason
        self.error = error
        self.finished = True
        self.on_finish(self)

    def choose(self, logits: np.ndarray) -> bool:
        """Pick the next token; False when the sequence is finished (``finish`` was called)."""
        try:
            if self.constraint is not None:
                logits = self.constraint.restrict(logits)
            token = self.sampler.pick(logits, self.seen)
            if token in self.stops:
                self.finish("stop")
                return False
            if self.constraint is not None:
                self.constraint.advance(token)
        except Exception as exc:  # this request fails; the others go on
            self.finish("error", exc)
            return False
        self.state.token_ids.append(token)
        self.seen.append(token)
        self.on_token(token)
        if len(self.state.token_ids) >= self.params.max_tokens:
            self.finish("length")
            return False
        self.next_token = token
        return True


class KVRows:
    """The shared KV buffers: past and present bound to the same memory (written in place)."""

    def __init__(self, model: TextModel, rows: int, positions: int) -> None:
        self._model = model
        self._buffers: dict[str, np.ndarray] = {}
        self._bindings: dict[tuple[bool, int, int], tuple[ort.IOBinding, list[ort.OrtValue]]] = {}
        self._allocate(rows, positions, keep=0)

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """The KV buffers by past input name, ``[rows, kv_heads, positions, head_dim]``."""
        return self._buffers

    @property
    def rows(self) -> int:
        return next(iter(self._buffers.values())).shape[0]

    @property
    def positions(self) -> int:
        return next(iter(self._buffers.values())).shape[2]

    def ensure(self, rows: int, positions: int, keep: int, max_rows: int) -> None:
        """Room for ``rows`` rows of ``positions``; rows ``0..keep-1`` are copied when it grows.
        Both dimensions double (rows up to ``max_rows``), so growing copies rarely."""
        if rows <= self.rows and positions <= self.positions:
            return
        grown = max(positions, self.positions * 2) if positions > self.positions else positions
        more_rows = min(max(rows, self.rows * 2), max(max_rows, rows)) if rows > self.rows else rows
        self._allocate(max(more_rows, self.rows), max(grown, self.positions), keep)

    def _allocate(self, rows: int, positions: int, keep: int) -> None:
        m = self._model
        for name in m.past_names:
            fresh = np.zeros((rows, m.kv_heads, positions, m.head_dim), np.float32)
            old = self._buffers.get(name)
            if old is not None and keep:
                fresh[:keep, :, : old.shape[2]] = old[:keep]
            self._buffers[name] = fresh
        self._bindings.clear()  # they point at the old buffers

    def move(self, src: int, dst: int, length: int) -> None:
        for buf in self._buffers.values():
            buf[dst, :, :length] = buf[src, :, :length]

    def _binding(self, prefill: bool, start: int, stop: int) -> ort.IOBinding:
        cached = self._bindings.get((prefill, start, stop))
        if cached is None:
            m = self._model
            binding = (m.prefill_session if prefill else m.session).io_binding()
            binding.bind_output("logits")  # first, so it is output 0
            values = []  # keep the bound views alive with the binding
            for name, buf in self._buffers.items():
                value = ort.OrtValue.ortvalue_from_numpy(buf[start:stop])
                values.append(value)
                binding.bind_ortvalue_input(name, value)
                binding.bind_ortvalue_output(name.replace("past_", "present_"), value)
            cached = self._bindings[(prefill, start, stop)] = (binding, values)
        return cached[0]

    def run(self, start: int, input_ids: np.ndarray, lengths: list[int]) -> np.ndarray:
        """Logits ``[rows, vocab]`` for the last token of each row of ``input_ids``, written
        into rows ``start..``; ``lengths`` are the positions filled per row after this step.
        More than one new token per row is a prefill: the model's prefill session runs it."""
        prefill = input_ids.shape[1] > 1
        binding = self._binding(prefill, start, start + input_ids.shape[0])
        binding.bind_cpu_input("input_ids", input_ids)
        binding.bind_cpu_input("seqlens_k", np.asarray(lengths, dtype=np.int32) - 1)
        binding.bind_cpu_input("total_sequence_length", np.array(max(lengths), dtype=np.int32))
        m = self._model
        (m.prefill_session if prefill else m.session).run_with_iobinding(binding)
        logits: np.ndarray = binding.get_outputs()[0].numpy()[:, -1]
        return logits


class Batch:
    """The active sequences of one model, at most ``max_rows`` of them."""

    def __init__(self, model: TextModel, max_rows: int = 1) -> None:
        self.model = model
        self.max_rows = max_rows
        self.active: list[Decoding] = []
        self._kv: KVRows | None = None

    @property
    def full(self) -> bool:
        return len(self.active) >= self.max_rows

    def join(self, seq: Decoding) -> None:
        """Prefill ``seq``'s prompt into a free row and pick its first token."""
        self.join_all([seq])

    def join_all(self, seqs: list[Decoding]) -> None:
        """Prefill the prompts of ``seqs`` (arrived together, at most the free rows) and pick
        each one's first token. With a prefill graph that reads each row at its own length,
        prompts share forwards (right-padded, grouped by :func:`prefill_groups`); a group whose
        forward fails is retried one by one, so only the prompt at fault gets the error."""
        ready = []
        for seq in seqs:
            if seq.cancelled:
                seq.finish("cancelled")
            elif seq.params.max_tokens <= 0:
                seq.finish("length")
            else:
                ready.append(seq)
        if not self.model.batched_prefill:
            groups = [[seq] for seq in ready]
        else:
            groups = prefill_groups(ready)
        for group in groups:
            try:
                self._prefill(group)
            except Exception as exc:
                if len(group) == 1:
                    group[0].finish("error", exc)
                    continue
                for seq in group:
                    try:
                        self._prefill([seq])
                    except Exception as alone:  # this request fails; the others go on
                        seq.finish("error", alone)

    def _prefill(self, group: list[Decoding]) -> None:
        """One forward over the prompts of ``group`` into the next free rows."""
        row = len(self.active)
        lengths = [len(seq.prompt_ids) for seq in group]
        width = max(lengths)
        room = max(
            n + min(s.params.max_tokens, KV_FIRST_CHUNK)
            for n, s in zip(lengths, group, strict=True)
        )
        if self._kv is None:
            self._kv = KVRows(self.model, len(group), room)
        self._kv.ensure(row + len(group), room, keep=row, max_rows=self.max_rows)
        ids = np.zeros((len(group), width), dtype=np.int64)  # padding: never attended to
        for i, seq in enumerate(group):
            ids[i, : lengths[i]] = seq.prompt_ids
        logits = self._kv.run(row, ids, lengths)
        for seq, length in zip(group, lengths, strict=True):
            seq.length = length
            self.active.append(seq)
        # Backwards: a leaving row takes the last row, which has already chosen.
        for i in reversed(range(len(group))):
            if not group[i].choose(logits[i]):
                self._leave(row + i)

    def step(self) -> None:
        """One forward over every active sequence (cancelled ones leave first)."""
        for row in reversed(range(len(self.active))):
            if self.active[row].cancelled:
                self.active[row].finish("cancelled")
                self._leave(row)
        if not self.active:
            return
        assert self._kv is not None
        lengths = [seq.length + 1 for seq in self.active]
        self._kv.ensure(len(lengths), max(lengths), keep=len(lengths), max_rows=self.max_rows)
        tokens = np.asarray([[seq.next_token] for seq in self.active], dtype=np.int64)
        logits = self._kv.run(0, tokens, lengths)
        for seq, length in zip(self.active, lengths, strict=True):
            seq.length = length
        # Backwards: a leaving row takes the last row, which has already chosen.
        for row in reversed(range(len(self.active))):
            if not self.active[row].choose(logits[row]):
                self._leave(row)

    def fail_all(self, error: BaseException) -> None:
        """The forward itself failed: every active sequence gets the error."""
        for seq in self.active:
            seq.finish("error", error)
        self.active.clear()
        self._kv = None

    def _leave(self, row: int) -> None:
        last = len(self.active) - 1
        if row != last:
            assert self._kv is not None
            self._kv.move(last, row, self.active[last].length)
            self.active[row] = self.active[last]
        self.active.pop()
        if not self.active:
            self._kv = None  # idle: give the memory back
