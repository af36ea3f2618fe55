"""A tiny random llama model written as a real GGUF, and a tiny embedding model, for fast tests.

The GGUF has what SmolLM2's has: Q4_1 projections (Q/K rows permuted as llama.cpp's converter
writes them), a Q8_0 tied token embedding, F32 norms, a byte-level BPE vocabulary with merges,
ChatML special tokens and a chat template.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from gguf import GGMLQuantizationType, GGUFWriter
from gguf.quants import quantize
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, pre_tokenizers

LAYERS, DIM, HEADS, KV_HEADS, FFN = 2, 64, 4, 2, 96
HEAD_DIM = DIM // HEADS
THETA, EPS = 10000.0, 1e-5
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
MERGES = ["Ġ t", "h e", "Ġt he", "i n", "Ġ a"]


def byte_chars() -> list[str]:
    """GPT-2's byte → printable character table."""
    keep = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    table = dict(zip(keep, chars, strict=True))
    return [chr(table[b]) for b in range(256)]


def vocabulary() -> tuple[list[str], list[int]]:
    tokens = byte_chars() + [m.replace(" ", "") for m in MERGES] + ["<|im_start|>", "<|im_end|>"]
    types = [1] * (len(tokens) - 2) + [3, 3]
    return tokens, types


def permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's Q/K row order (interleaved rotary pairs)."""
    return (
        w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
        .swapaxes(1, 2)
        .reshape(w.shape)
    )


def write_tiny_gguf(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    tokens, types = vocabulary()
    vocab = len(tokens)
    w = GGUFWriter(str(path), "llama")
    w.add_block_count(LAYERS)
    w.add_context_length(512)
    w.add_embedding_length(DIM)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_layer_norm_rms_eps(EPS)
    w.add_rope_freq_base(THETA)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(MERGES)
    w.add_eos_token_id(tokens.index("<|im_end|>"))
    w.add_bos_token_id(tokens.index("<|im_start|>"))
    w.add_chat_template(CHATML)

    def q4(name: str, rows: int, cols: int, heads: int | None = None) -> None:
        m = rng.normal(0, 0.5, (rows, cols)).astype(np.float32)
        if heads:
            m = permute(m, heads)
        w.add_tensor(
            name, quantize(m, GGMLQuantizationType.Q4_1), raw_dtype=GGMLQuantizationType.Q4_1
        )

    def norm(name: str) -> None:
        w.add_tensor(name, rng.uniform(0.8, 1.2, DIM).astype(np.float32))

    emb = rng.normal(0, 1.0, (vocab, DIM)).astype(np.float32)
    w.add_tensor(
        "token_embd.weight",
        quantize(emb, GGMLQuantizationType.Q8_0),
        raw_dtype=GGMLQuantizationType.Q8_0,
    )
    norm("output_norm.weight")
    for i in range(LAYERS):
        p = f"blk.{i}."
        norm(p + "attn_norm.weight")
        norm(p + "ffn_norm.weight")
        q4(p + "attn_q.weight", DIM, DIM, HEADS)
        q4(p + "attn_k.weight", KV_HEADS * HEAD_DIM, DIM, KV_HEADS)
        q4(p + "attn_v.weight", KV_HEADS * HEAD_DIM, DIM)
        q4(p + "attn_output.weight", DIM, DIM)
        q4(p + "ffn_gate.weight", FFN, DIM)
        q4(p + "ffn_up.weight", FFN, DIM)
        q4(p + "ffn_down.weight", DIM, FFN)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def write_tiny_embedder(folder: Path, dim: int = 8) -> Path:
    """``model.onnx`` (an embedding table lookup) and a word-level ``tokenizer.json``."""
    words = ["[PAD]", "[UNK]", "hello", "world", "cat", "dog", "the", "a"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    table = np.random.default_rng(1).normal(size=(len(words), dim)).astype(np.float32)
    ins = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["B", "S"])
        for n in ("input_ids", "attention_mask", "token_type_ids")
    ]
    out = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["B", "S", dim])
    node = helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"])
    graph = helper.make_graph(
        [node], "tiny_embed", ins, [out], [numpy_helper.from_array(table, "table")]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.save_model(model, str(folder / "model.onnx"))
    return folder
