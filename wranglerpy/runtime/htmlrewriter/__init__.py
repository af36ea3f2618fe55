"""Cloudflare's ``HTMLRewriter``, run locally (in progress: selectors and tokenizer)."""
