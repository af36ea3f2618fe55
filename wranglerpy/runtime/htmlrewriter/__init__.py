"""Cloudflare's ``HTMLRewriter``, run locally: a streaming tokenizer, lol-html's selector
subset, and the Element/Text/Comment objects handlers receive."""

from wranglerpy.runtime.htmlrewriter.rewriter import HTMLRewriter
from wranglerpy.runtime.htmlrewriter.selector import SelectorError

__all__ = ["HTMLRewriter", "SelectorError"]
