"""An independent llama forward pass in numpy, straight from a GGUF, with llama.cpp's semantics.

It reads the weights as stored (Q/K rows permuted, rotary on adjacent pairs, as llama.cpp
computes) so it shares nothing with the converter's un-permute + half-split rotary: if both
agree, the ONNX graph computes what llama.cpp computes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def _field(reader: GGUFReader, key: str) -> object:
    return reader.fields[key].contents()


class NumpyLlama:
    def __init__(self, gguf_path: Path) -> None:
        reader = GGUFReader(str(gguf_path))
        self.layers = int(_field(reader, "llama.block_count"))  # type: ignore[call-overload]
        self.heads = int(_field(reader, "llama.attention.head_count"))  # type: ignore[call-overload]
        self.kv_heads = int(_field(reader, "llama.attention.head_count_kv"))  # type: ignore[call-overload]
        self.eps = float(_field(reader, "llama.attention.layer_norm_rms_epsilon"))  # type: ignore[arg-type]
        self.theta = float(_field(reader, "llama.rope.freq_base"))  # type: ignore[arg-type]
        self.w = {
            t.name: dequantize(t.data, t.tensor_type).astype(np.float64) for t in reader.tensors
        }
        self.dim = self.w["token_embd.weight"].shape[1]
        self.head_dim = self.dim // self.heads

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * self.w[name]

    def _rope(self, x: np.ndarray) -> np.ndarray:
        """Rotate adjacent pairs (x[2i], x[2i+1]) by position · theta^(-2i/d); x is [S, heads, d]."""
        seq, _, d = x.shape
        inv = self.theta ** (-np.arange(0, d, 2) / d)
        angle = np.arange(seq)[:, None] * inv[None, :]
        cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    def logits(self, ids: list[int]) -> np.ndarray:
        """Logits for every position of ``ids`` (a fresh prompt), shape [S, vocab]."""
        w, seq, hd = self.w, len(ids), self.head_dim
        h = w["token_embd.weight"][ids]
        causal = np.triu(np.full((seq, seq), -np.inf), 1)
        group = self.heads // self.kv_heads
        for i in range(self.layers):
            p = f"blk.{i}."
            x = self._norm(h, p + "attn_norm.weight")
            q = self._rope((x @ w[p + "attn_q.weight"].T).reshape(seq, self.heads, hd))
            k = self._rope((x @ w[p + "attn_k.weight"].T).reshape(seq, self.kv_heads, hd))
            v = (x @ w[p + "attn_v.weight"].T).reshape(seq, self.kv_heads, hd)
            heads = []
            for head in range(self.heads):
                kv = head // group
                scores = q[:, head] @ k[:, kv].T / np.sqrt(hd) + causal
                scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
                heads.append((scores / scores.sum(axis=-1, keepdims=True)) @ v[:, kv])
            h = h + np.concatenate(heads, axis=-1) @ w[p + "attn_output.weight"].T
            x = self._norm(h, p + "ffn_norm.weight")
            gate = x @ w[p + "ffn_gate.weight"].T
            act = gate / (1.0 + np.exp(-gate)) * (x @ w[p + "ffn_up.weight"].T)
            h = h + act @ w[p + "ffn_down.weight"].T
        out = self._norm(h, "output_norm.weight")
        head_w = w.get("output.weight", w["token_embd.weight"])
        return np.asarray(out @ head_w.T)
