"""The converted graph against an independent numpy forward pass that follows llama.cpp's layout
(GGUF Q/K rows as stored, rotary on adjacent pairs), step by step through the KV cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from gguf import GGUFReader
from gguf.quants import dequantize

from tests.ai import tiny
from wranglerpy.ai.gguf_convert import convert_gguf, read_shape, split_q4_1
from wranglerpy.errors import AIError


def weights(path: Path) -> dict[str, np.ndarray]:
    reader = GGUFReader(str(path))
    return {
        t.name: np.asarray(dequantize(t.data, t.tensor_type), np.float32) for t in reader.tensors
    }


def rms(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + tiny.EPS) * w


def rope_pairs(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """llama.cpp's normal rope: rotate (2i, 2i+1) pairs. x: [S, heads, head_dim]."""
    half = np.arange(0, tiny.HEAD_DIM, 2) / tiny.HEAD_DIM
    angle = positions[:, None] * tiny.THETA ** (-half)[None, :]
    cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def reference_logits(w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """Logits of the last position for the whole sequence ``ids``."""
    seq = len(ids)
    pos = np.arange(seq, dtype=np.float64)
    x = w["token_embd.weight"][ids]
    group = tiny.HEADS // tiny.KV_HEADS
    mask = np.triu(np.full((seq, seq), -np.inf), 1)
    for i in range(tiny.LAYERS):
        p = f"blk.{i}."
        h = rms(x, w[p + "attn_norm.weight"])
        q = rope_pairs((h @ w[p + "attn_q.weight"].T).reshape(seq, tiny.HEADS, tiny.HEAD_DIM), pos)
        k = rope_pairs(
            (h @ w[p + "attn_k.weight"].T).reshape(seq, tiny.KV_HEADS, tiny.HEAD_DIM), pos
        )
        v = (h @ w[p + "attn_v.weight"].T).reshape(seq, tiny.KV_HEADS, tiny.HEAD_DIM)
        heads = []
        for head in range(tiny.HEADS):
            kv = head // group
            scores = q[:, head] @ k[:, kv].T / np.sqrt(tiny.HEAD_DIM) + mask
            probs = np.exp(scores - scores.max(-1, keepdims=True))
            probs /= probs.sum(-1, keepdims=True)
            heads.append(probs @ v[:, kv])
        x = x + np.concatenate(heads, -1) @ w[p + "attn_output.weight"].T
        h = rms(x, w[p + "ffn_norm.weight"])
        gate = h @ w[p + "ffn_gate.weight"].T
        x = (
            x
            + ((gate / (1 + np.exp(-gate))) * (h @ w[p + "ffn_up.weight"].T))
            @ w[p + "ffn_down.weight"].T
        )
    return np.asarray(rms(x, w["output_norm.weight"])[-1] @ w["token_embd.weight"].T)


def test_graph_matches_reference_through_the_kv_cache(
    tiny_gguf: Path, tiny_model_dir: Path
) -> None:
    w = weights(tiny_gguf)
    sess = ort.InferenceSession(
        str(tiny_model_dir / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    past = {
        f"past_{kv}.{i}": np.zeros((1, tiny.KV_HEADS, 0, tiny.HEAD_DIM), np.float32)
        for i in range(tiny.LAYERS)
        for kv in ("key", "value")
    }
    ids = [261, 116, 257, 32, 99, 97, 116]
    feed_ids = ids
    for step in range(4):
        feeds = {
            "input_ids": np.asarray([feed_ids], np.int64),
            "total_sequence_length": np.array(len(ids), np.int32),
            "seqlens_k": np.array([len(ids) - 1], np.int32),
        }
        outs = sess.run(None, {**feeds, **past})
        got = outs[0][0, -1]
        want = reference_logits(w, ids)
        # MatMulNBits with accuracy_level=4 quantizes activations to int8: close, not equal.
        assert np.abs(got - want).max() < 0.05 * np.abs(want).max(), step
        assert int(np.argmax(got)) == int(np.argmax(want))
        nxt = int(np.argmax(got))
        ids = [*ids, nxt]
        feed_ids = [nxt]
        past = dict(zip(past, outs[1:], strict=True))


def test_q4_1_split_is_exact() -> None:
    rng = np.random.default_rng(3)
    from gguf import GGMLQuantizationType
    from gguf.quants import quantize

    m = rng.normal(size=(4, 64)).astype(np.float32)
    raw = quantize(m, GGMLQuantizationType.Q4_1)
    packed, d, corr = split_q4_1(raw, None)
    q = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(4, 2, 32).astype(np.float32)
    rebuilt = (d[..., None] * (q - 8) + corr[..., None]).reshape(4, 64)
    np.testing.assert_allclose(
        rebuilt, dequantize(raw, GGMLQuantizationType.Q4_1), rtol=1e-5, atol=1e-5
    )


def test_other_architectures_are_refused(tmp_path: Path) -> None:
    from gguf import GGUFWriter

    path = tmp_path / "other.gguf"
    writer = GGUFWriter(str(path), "gemma3")
    writer.add_tensor("x", np.zeros(32, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(AIError, match="only llama-architecture"):
        read_shape(GGUFReader(str(path)))
    with pytest.raises(AIError):
        convert_gguf(path, tmp_path / "out.onnx")


def test_reconverting_replaces_external_data(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.onnx"
    convert_gguf(tiny_gguf, out, max_positions=64)
    size = (tmp_path / "model.onnx.data").stat().st_size
    convert_gguf(tiny_gguf, out, max_positions=64)
    assert (tmp_path / "model.onnx.data").stat().st_size == size
