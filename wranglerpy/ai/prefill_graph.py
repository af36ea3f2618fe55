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

The prefill graph also takes each row's hidden state at its own last prompt position
(``seqlens_k``) instead of the last column, so prompts of different lengths can share one
forward, right-padded (batch.py joins the sequences that arrive together that way).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from wranglerpy.ai.batched_graph import SEQLENS, write_graph_beside
from wranglerpy.errors import AIError

PREFILL_ENV = "WRANGLERPY_AI_PREFILL"
PREFILL_MODES = ("float", "int8")
# The graph file; named apart from the first version (model.prefill.onnx, last column only),
# which older checkouts sharing the model cache still read.
PREFILL_FILE = "model.prefill-rows.onnx"
LAST_ROW_INDEX = "prefill_last_row_index"


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


def last_rows_by_length(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrite ``model`` in place (idempotent): the head reads row ``b`` at position
    ``seqlens_k[b]`` (the row's last prompt token) instead of the last column, the same
    position for an unpadded row."""
    graph = model.graph
    if any(n.name == LAST_ROW_INDEX for n in graph.node):
        return model
    by_output = {o: n for n in graph.node for o in n.output}
    head = by_output[by_output["logits"].input[0]]  # logits = Identity(head(Slice(hidden)))
    last = by_output[head.input[0]]
    if last.op_type != "Slice":
        raise ValueError(f"the head's input comes from {last.op_type}, not the last-column Slice")
    hidden_size = next(helper.get_attribute_value(a) for a in head.attribute if a.name == "K")
    shape = numpy_helper.from_array(np.array([1, 1, hidden_size], np.int64), "last_row_shape")
    axes = numpy_helper.from_array(np.array([1, 2], np.int64), "last_row_axes")
    graph.initializer.extend([shape, axes])
    nodes = [
        helper.make_node("Cast", [SEQLENS], ["last_row_i64"], to=onnx.TensorProto.INT64),
        helper.make_node("Unsqueeze", ["last_row_i64", axes.name], ["last_row_b11"]),
        helper.make_node(
            "Expand", ["last_row_b11", shape.name], ["last_row_idx"], name=LAST_ROW_INDEX
        ),
        helper.make_node(
            "GatherElements", [last.input[0], "last_row_idx"], [last.output[0]], axis=1
        ),
    ]
    kept = [n for n in graph.node if n is not last]
    at = kept.index(head)
    del graph.node[:]
    graph.node.extend(kept[:at] + nodes + kept[at:])
    used = {name for node in graph.node for name in node.input}
    for init in [i for i in graph.initializer if i.name in last.input[1:] and i.name not in used]:
        graph.initializer.remove(init)  # the Slice's bounds (onnxruntime warns about unused ones)
    return model


def prefill_model_file(runtime_path: Path) -> Path:
    """The prefill graph beside ``runtime_path`` (the batched graph), written once."""
    target = runtime_path.with_name(PREFILL_FILE)
    if target.exists():
        return target
    model = onnx.load(os.fspath(runtime_path), load_external_data=False)
    write_graph_beside(last_rows_by_length(float_activations(model)), target)
    return target
