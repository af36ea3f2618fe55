"""The prefill session: float activations in the 4-bit matmuls, the same weights, used for
prompts only (greedy equality with llama.cpp on the real model: tests/ai/test_reference.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import onnx
import pytest
from onnx import helper

from wranglerpy.ai.generate import TextModel
from wranglerpy.ai.prefill_graph import (
    PREFILL_ENV,
    float_activations,
    float_prefill_enabled,
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
    shutil.copytree(tiny_model_dir, folder, ignore=shutil.ignore_patterns("*.prefill.onnx"))
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
    assert path == model_copy / "model.prefill.onnx"
    assert {bits: level for bits, level in levels(onnx.load(os.fspath(path)))} == {4: 0, 8: 4}
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
    assert not (model_copy / "model.prefill.onnx").exists()


def test_the_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PREFILL_ENV, raising=False)
    assert float_prefill_enabled()
    monkeypatch.setenv(PREFILL_ENV, "int8")
    assert not float_prefill_enabled()
    monkeypatch.setenv(PREFILL_ENV, "fp16")
    with pytest.raises(AIError, match=r"WRANGLERPY_AI_PREFILL='fp16' is not one of: float, int8"):
        float_prefill_enabled()
