"""A ``tokenizers`` byte-level BPE tokenizer rebuilt from a GGUF's vocabulary and merges.

Parsing 49k strings from the GGUF takes seconds, so conversion saves ``tokenizer.json`` and
``meta.json`` (special token ids, chat template) once; loading those takes ~0.15 s.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from gguf import GGUFReader
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

from wranglerpy.ai.gguf_convert import field
from wranglerpy.errors import AIError

CONTROL = 3  # llama.cpp token types
USER_DEFINED = 4


@dataclass(frozen=True)
class TextModelMeta:
    """What generation needs from the GGUF besides weights."""

    eos_token_id: int
    bos_token_id: int | None
    chat_template: str | None
    stop_token_ids: tuple[int, ...]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> TextModelMeta:
        raw = json.loads(path.read_text())
        raw["stop_token_ids"] = tuple(raw["stop_token_ids"])
        return cls(**raw)


def tokenizer_from_gguf(reader: GGUFReader) -> tuple[Tokenizer, TextModelMeta]:
    model = field(reader, "tokenizer.ggml.model")
    if model != "gpt2":
        raise AIError(
            f"only byte-level BPE ('gpt2') GGUF tokenizers are supported, this one is {model!r}"
        )
    tokens: list[str] = field(reader, "tokenizer.ggml.tokens")
    types: list[int] = field(reader, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in field(reader, "tokenizer.ggml.merges")]
    bpe = models.BPE(
        vocab={t: i for i, t in enumerate(tokens)},
        merges=merges,
        fuse_unk=False,
        byte_fallback=False,
    )
    tok = Tokenizer(bpe)
    byte_level = pre_tokenizers.ByteLevel(
        add_prefix_space=bool(field(reader, "tokenizer.ggml.add_space_prefix", False)),
        use_regex=True,
    )
    if field(reader, "tokenizer.ggml.pre", "default") == "smollm":
        # llama.cpp's "smollm" pre-tokenizer splits every digit before the GPT-2 regex.
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), byte_level]
        )
    else:
        tok.pre_tokenizer = byte_level
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(
        [
            AddedToken(t, special=True, normalized=False)
            for t, ty in zip(tokens, types, strict=True)
            if ty == CONTROL
        ]
    )
    tok.add_tokens(
        [
            AddedToken(t, special=False, normalized=False)
            for t, ty in zip(tokens, types, strict=True)
            if ty == USER_DEFINED
        ]
    )
    eos = int(field(reader, "tokenizer.ggml.eos_token_id"))
    stops = {eos}
    for name in ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"):
        found = tok.token_to_id(name)
        if found is not None:
            stops.add(int(found))
    bos = field(reader, "tokenizer.ggml.bos_token_id")
    meta = TextModelMeta(
        eos_token_id=eos,
        bos_token_id=None if bos is None else int(bos),
        chat_template=field(reader, "tokenizer.chat_template"),
        stop_token_ids=tuple(sorted(stops)),
    )
    return tok, meta


def save_tokenizer(gguf_path: Path, out_dir: Path) -> TextModelMeta:
    """Write ``tokenizer.json`` and ``meta.json`` for a GGUF into ``out_dir``."""
    tok, meta = tokenizer_from_gguf(GGUFReader(str(gguf_path)))
    out_dir.mkdir(parents=True, exist_ok=True)
    tok.save(str(out_dir / "tokenizer.json"))
    meta.save(out_dir / "meta.json")
    return meta
