"""Make the converted text graph take a batch of sequences of different lengths.

The converter's graph was written for one sequence: ``input_ids [1, S]``, reshapes with a
literal batch of 1 and ``seqlens_k`` derived from ``total_sequence_length``. Continuous
batching needs ``input_ids [B, S]``, the KV tensors ``[B, kv_heads, P, head_dim]`` and one
``seqlens_k`` entry per sequence (GroupQueryAttention masks each row at its own length and
writes each row's new positions at its own offset). The rewrite touches only the graph, never
the weights, so caches converted before it load unchanged (no re-download, no re-conversion).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEQLENS = "seqlens_k"  # [B] int32: positions filled per sequence (past + new) minus one


def is_batched(model: onnx.ModelProto) -> bool:
    return any(i.name == SEQLENS for i in model.graph.input)


def make_batched(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrite ``model`` in place (idempotent) and return it."""
    graph = model.graph
    if is_batched(model):
        return model
    for value in list(graph.input) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and dims[0].HasField("dim_value") and dims[0].dim_value == 1:
            dims[0].dim_param = "B"
    inits = {i.name: i for i in graph.initializer}
    gqa_seqlens = {n.input[5] for n in graph.node if n.op_type == "GroupQueryAttention"}
    (derived,) = gqa_seqlens  # one Reshape(Sub(total, 1), [1]) feeds every layer
    by_output = {o: n for n in graph.node for o in n.output}
    reshape = by_output[derived]
    kept = []
    for node in graph.node:
        if node is reshape or node is by_output[reshape.input[0]]:
            continue
        if node.op_type == "Reshape":
            shape = inits.get(node.input[1])
            if shape is not None:
                arr = numpy_helper.to_array(shape)
                if arr.ndim == 1 and len(arr) > 1 and arr[0] == 1:
                    # batch 1 written literally → copy the input's batch dimension
                    fixed = arr.copy()
                    fixed[0] = 0
                    shape.CopyFrom(numpy_helper.from_array(fixed.astype(np.int64), shape.name))
        for i, name in enumerate(node.input):
            if name == derived:
                node.input[i] = SEQLENS
        kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for node in kept for name in node.input}
    unused = [i for i in graph.initializer if i.name not in used]
    for init in unused:
        graph.initializer.remove(init)
    graph.input.append(helper.make_tensor_value_info(SEQLENS, TensorProto.INT32, ["B"]))
    return model


def batched_model_file(model_path: Path) -> Path:
    """``model_path`` when its graph is batched already, else a batched copy beside it.

    onnxruntime only reads external weights from the graph file's own folder, so the copy
    (``model.batched.onnx``, the graph alone, about 1 MB) is written there once, atomically;
    the manifest does not list it, so it never makes a cached model look incomplete.
    """
    model = onnx.load(os.fspath(model_path), load_external_data=False)
    if is_batched(model):
        return model_path
    target = model_path.with_name(model_path.stem + ".batched.onnx")
    if target.exists():
        return target
    write_graph_beside(make_batched(model), target)
    return target


def write_graph_beside(model: onnx.ModelProto, target: Path) -> None:
    """Write a graph (its weights stay in the external data file it names) atomically."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        onnx.save_model(model, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
