"""The prefill session: float activations in the 4-bit matmuls, the same weights, used for
prompts only (greedy equality with llama.cpp on the real model: tests/ai/test_reference.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from wranglerpy.ai.batch import KVRows
from wranglerpy.ai.generate import TextModel
from wranglerpy.ai.prefill_graph import (
    PREFILL_ENV,
    PREFILL_FILE,
    float_activations,
    float_prefill_enabled,
    last_rows_by_length,
    prefill_model_file,
)
from wranglerpy.ai.sampling import SamplingParams
from wranglerpy.errors import AIError


def levels(model: onnx.ModelProto) -> list[tuple[int, int]]:
    """(bits, accuracy_level) of every MatMulNBits node."""
    out = []
    for node in model.graph.node:
        if node.op_type == "MatMulNBits":
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            out.append((int(attrs["bits"]), int(attrs["accuracy_level"])))
    return out


@pytest.fixture
def model_copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """The converted files only (other tests' sessions leave derived graphs in the shared one)."""
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder, ignore=shutil.ignore_patterns("model.prefill*.onnx"))
    return folder


def test_only_the_4_bit_matmuls_get_float_activations(model_copy: Path) -> None:
    graph = onnx.load(os.fspath(model_copy / "model.onnx"), load_external_data=False)
    before = levels(graph)
    assert (4, 4) in before and (8, 4) in before  # the converter's int8 activations
    after = levels(float_activations(graph))
    assert after == [(bits, 0 if bits == 4 else level) for bits, level in before]
    assert levels(float_activations(graph)) == after  # idempotent


def test_the_prefill_graph_is_written_once_beside_the_weights(model_copy: Path) -> None:
    data = (model_copy / "model.onnx.data").read_bytes()
    path = prefill_model_file(model_copy / "model.onnx")
    assert path == model_copy / PREFILL_FILE
    graph = onnx.load(os.fspath(path))
    assert {bits: level for bits, level in levels(graph)} == {4: 0, 8: 4}
    assert "Slice" not in {n.op_type for n in graph.graph.node}  # each row at its own length
    stamp = path.stat().st_mtime_ns
    assert prefill_model_file(model_copy / "model.onnx") == path
    assert path.stat().st_mtime_ns == stamp
    assert (model_copy / "model.onnx.data").read_bytes() == data


class Recording:
    """A session wrapper that notes which session each forward ran on."""

    def __init__(self, inner: object, label: str, log: list[str]) -> None:
        self._inner, self._label, self._log = inner, label, log

    def io_binding(self) -> object:
        return self._inner.io_binding()  # type: ignore[attr-defined]

    def run_with_iobinding(self, binding: object) -> None:
        self._log.append(self._label)
        self._inner.run_with_iobinding(binding)  # type: ignore[attr-defined]


def test_prompts_run_on_the_prefill_session_and_steps_on_the_decode_session(
    model_copy: Path,
) -> None:
    model = TextModel(model_copy)
    assert model.prefill_session is not model.session
    log: list[str] = []
    model.prefill_session = Recording(model.prefill_session, "prefill", log)
    model.session = Recording(model.session, "decode", log)
    params = SamplingParams(max_tokens=6, temperature=0)
    tokens = list(model.tokens([5, 17, 3, 42, 8], params))
    assert tokens
    # one prefill, then one decode step per token after the first (none after the last)
    assert log[0] == "prefill"
    assert log[1:] == ["decode"] * (len(log) - 1) and len(log) in (len(tokens), len(tokens) + 1)


def test_int8_prefill_keeps_one_session(model_copy: Path) -> None:
    model = TextModel(model_copy, float_prefill=False)
    assert model.prefill_session is model.session
    assert not (model_copy / PREFILL_FILE).exists()
    assert not model.batched_prefill  # the decode graph reads the last column only


def test_the_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PREFILL_ENV, raising=False)
    assert float_prefill_enabled()
    monkeypatch.setenv(PREFILL_ENV, "int8")
    assert not float_prefill_enabled()
    monkeypatch.setenv(PREFILL_ENV, "fp16")
    with pytest.raises(AIError, match=r"WRANGLERPY_AI_PREFILL='fp16' is not one of: float, int8"):
        float_prefill_enabled()


def test_the_head_reading_each_row_at_its_length_is_idempotent(model_copy: Path) -> None:
    graph = onnx.load(os.fspath(model_copy / "model.onnx"), load_external_data=False)
    once = last_rows_by_length(graph).SerializeToString()
    assert last_rows_by_length(graph).SerializeToString() == once
    names = {i.name for i in graph.graph.initializer}
    used = {name for node in graph.graph.node for name in node.input}
    assert names <= used  # the Slice's bounds went with it


def test_right_padded_prompts_get_their_own_logits_and_kv(model_copy: Path) -> None:
    """Three prompts of different lengths in one forward, padded on the right: each row's
    logits (at its own last token) and KV positions are bit-identical to its prompt alone."""
    model = TextModel(model_copy)
    prompts = [[5, 17, 3, 42, 8, 9, 11], [7, 7, 2], [30, 1, 4, 4, 6]]
    alone = []
    for ids in prompts:
        kv = KVRows(model, 1, 16)
        logits = kv.run(0, np.asarray([ids], dtype=np.int64), [len(ids)]).copy()
        alone.append((logits[0], {n: b[0, :, : len(ids)].copy() for n, b in kv.buffers.items()}))
    kv = KVRows(model, 3, 16)
    padded = np.zeros((3, 7), dtype=np.int64)
    for i, ids in enumerate(prompts):
        padded[i, : len(ids)] = ids
    logits = kv.run(0, padded, [len(ids) for ids in prompts])
    for i, ids in enumerate(prompts):
        assert np.array_equal(logits[i], alone[i][0])
        for name, buf in kv.buffers.items():
            assert np.array_equal(buf[i, :, : len(ids)], alone[i][1][name])
