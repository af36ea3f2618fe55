"""A tiny llama GGUF with random weights, written with the ``gguf`` package, for fast tests.

Same layout as SmolLM2's GGUF (what the converter must handle): Q4_1 projections, a Q8_0
token embedding tied to the output head, F32 norms, Q/K rows in llama.cpp's permuted order,
a byte-level BPE vocabulary with merges and ChatML control tokens, and a chat template.
Weights are random but seeded, so every run writes the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter
from gguf.quants import quantize

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
MERGES = ("h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "Ġwor l", "Ġworl d", "Ġ {", 'Ġ "')
SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


@dataclass(frozen=True)
class TinyShape:
    layers: int = 2
    dim: int = 64
    heads: int = 4
    kv_heads: int = 2
    ffn: int = 128
    eps: float = 1e-5
    rope_theta: float = 10000.0


def byte_unicode() -> list[str]:
    """GPT-2's byte → printable character table (what byte-level BPE vocabularies are made of)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars: dict[int, str] = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def vocabulary() -> tuple[list[str], list[int], list[str]]:
    """(tokens, token types, merges): specials first (ids 0-2), then bytes, then merge results."""
    tokens = list(SPECIALS) + byte_unicode()
    tokens += ["".join(m.split(" ")) for m in MERGES]
    types = [3] * len(SPECIALS) + [1] * (len(tokens) - len(SPECIALS))
    return tokens, types, list(MERGES)


def permute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's converter order for Q/K rows (interleaved rotary pairs)."""
    return (
        w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
        .swapaxes(1, 2)
        .reshape(w.shape)
    )


def write_tiny_gguf(path: Path, shape: TinyShape = TinyShape(), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    tokens, types, merges = vocabulary()
    head_dim = shape.dim // shape.heads
    writer = GGUFWriter(str(path), "llama")
    writer.add_block_count(shape.layers)
    writer.add_context_length(512)
    writer.add_embedding_length(shape.dim)
    writer.add_feed_forward_length(shape.ffn)
    writer.add_head_count(shape.heads)
    writer.add_head_count_kv(shape.kv_heads)
    writer.add_layer_norm_rms_eps(shape.eps)
    writer.add_rope_freq_base(shape.rope_theta)
    writer.add_rope_dimension_count(head_dim)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_chat_template(CHATML)

    def q(name: str, rows: int, cols: int, qtype: GGMLQuantizationType, heads: int = 0) -> None:
        w = rng.normal(0, 0.5 / np.sqrt(cols), (rows, cols)).astype(np.float32)
        if heads:
            w = permute_rows(w, heads)
        writer.add_tensor(name, quantize(w, qtype), raw_dtype=qtype)

    def norm(name: str) -> None:
        writer.add_tensor(name, (1.0 + rng.normal(0, 0.1, shape.dim)).astype(np.float32))

    q4 = GGMLQuantizationType.Q4_1
    q("token_embd.weight", len(tokens), shape.dim, GGMLQuantizationType.Q8_0)
    for i in range(shape.layers):
        p = f"blk.{i}."
        norm(p + "attn_norm.weight")
        q(p + "attn_q.weight", shape.dim, shape.dim, q4, shape.heads)
        q(p + "attn_k.weight", shape.kv_heads * head_dim, shape.dim, q4, shape.kv_heads)
        q(p + "attn_v.weight", shape.kv_heads * head_dim, shape.dim, q4)
        q(p + "attn_output.weight", shape.dim, shape.dim, q4)
        norm(p + "ffn_norm.weight")
        q(p + "ffn_gate.weight", shape.ffn, shape.dim, q4)
        q(p + "ffn_up.weight", shape.ffn, shape.dim, q4)
        q(p + "ffn_down.weight", shape.dim, shape.ffn, q4)
    norm("output_norm.weight")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
