"""The prefill graph: the same model with float activations in its 4-bit matmuls.

A decode step multiplies one row per sequence; there ``accuracy_level=4`` (activations
quantised to int8 per block) is the fast kernel. A prompt is tens to hundreds of rows at
once, and there onnxruntime's float path (dequantise a block of weights once, then an fp32
GEMM over every row) is faster: 1.17x on the 36-token prompt and 1.22x on the 484-token one
(bench/ai_prefill.py, load average 6.6). The weights are the same bytes; only the activations skip the int8
rounding, and greedy output still equals llama.cpp's token for token on both reference
prompts (tests/ai/test_reference.py). The 8-bit output head keeps int8 activations (its
float kernel is 90x slower, and it sees one row per sequence anyway).

The cost is a second session: its packed weights add about 110 MB to the process that holds
the model (one per machine, the model host). ``WRANGLERPY_AI_PREFILL=int8`` keeps one session.
"""

from __future__ import annotations

import os
from pathlib import Path

import onnx
from onnx import helper

from wranglerpy.ai.batched_graph import write_graph_beside
from wranglerpy.errors import AIError

PREFILL_ENV = "WRANGLERPY_AI_PREFILL"
PREFILL_MODES = ("float", "int8")


def float_prefill_enabled() -> bool:
    """``WRANGLERPY_AI_PREFILL``: ``float`` (the default) or ``int8`` (one session, less memory)."""
    raw = os.environ.get(PREFILL_ENV, "") or "float"
    if raw not in PREFILL_MODES:
        raise AIError(f"{PREFILL_ENV}={raw!r} is not one of: {', '.join(PREFILL_MODES)}")
    return raw == "float"


def float_activations(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrite ``model`` in place (idempotent): every 4-bit ``MatMulNBits`` gets
    ``accuracy_level=0``; the 8-bit head is left as it is."""
    for node in model.graph.node:
        if node.op_type != "MatMulNBits":
            continue
        attrs = {a.name: a for a in node.attribute}
        if helper.get_attribute_value(attrs["bits"]) != 4:
            continue
        level = attrs.get("accuracy_level")
        if level is None:
            node.attribute.append(helper.make_attribute("accuracy_level", 0))
        else:
            level.i = 0
    return model


def prefill_model_file(runtime_path: Path) -> Path:
    """``model.prefill.onnx`` beside ``runtime_path`` (the batched graph), written once."""
    target = runtime_path.with_name("model.prefill.onnx")
    if target.exists():
        return target
    model = onnx.load(os.fspath(runtime_path), load_external_data=False)
    write_graph_beside(float_activations(model), target)
    return target
