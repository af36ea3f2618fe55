"""The JS error types workerd raises from Durable Object APIs, as Python exceptions.

``TypeError`` is Python's own; the others carry JS's names so ``type(e).__name__`` and the
message read as on Cloudflare.
"""

from __future__ import annotations


class Error(Exception):
    """JS ``Error``."""


class RangeError(ValueError):
    """JS ``RangeError``."""


class InvalidAccessError(Exception):
    """DOMException ``InvalidAccessError``."""


class SyntaxError_(Exception):  # noqa: N801 - Python's SyntaxError means something else
    """DOMException ``SyntaxError``."""


SyntaxError_.__name__ = "SyntaxError"
SyntaxError_.__qualname__ = "SyntaxError"
