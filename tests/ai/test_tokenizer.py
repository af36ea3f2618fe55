from __future__ import annotations

from pathlib import Path

import pytest
from gguf import GGUFReader
from tokenizers import Tokenizer

from wranglerpy.ai.chat_template import ChatTemplate
from wranglerpy.ai.tokenizer import TextModelMeta, tokenizer_from_gguf
from wranglerpy.errors import AIError


def test_tokenizer_from_gguf_uses_merges_and_specials(tiny_gguf: Path) -> None:
    tok, meta = tokenizer_from_gguf(GGUFReader(str(tiny_gguf)))
    vocab = tok.get_vocab()
    ids = tok.encode("the cat", add_special_tokens=False).ids
    assert ids[:2] == [vocab["t"], vocab["he"]]  # the "h e" merge applied
    assert tok.encode("<|im_start|>user", add_special_tokens=False).ids[0] == vocab["<|im_start|>"]
    assert tok.decode(tok.encode("naïve 42 日本", add_special_tokens=False).ids) == "naïve 42 日本"
    assert meta.eos_token_id == vocab["<|im_end|>"]
    assert meta.stop_token_ids == (meta.eos_token_id,)


def test_saved_files_load_back(tiny_model_dir: Path) -> None:
    tok = Tokenizer.from_file(str(tiny_model_dir / "tokenizer.json"))
    meta = TextModelMeta.load(tiny_model_dir / "meta.json")
    assert tok.token_to_id("<|im_end|>") == meta.eos_token_id
    assert meta.chat_template is not None and "im_start" in meta.chat_template


def test_chat_template_renders_chatml() -> None:
    text = ChatTemplate(None).render([{"role": "user", "content": "hi"}])
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_template_errors_are_ai_errors() -> None:
    template = ChatTemplate("{{ raise_exception('roles must alternate') }}")
    with pytest.raises(AIError, match="roles must alternate"):
        template.render([{"role": "user", "content": "x"}])
