"""The JS error types workerd raises from Durable Object APIs, as Python exceptions.

``TypeError`` is Python's own; the others carry JS's names so ``type(e).__name__`` and the
message read as on Cloudflare. (The WebSocket API's DOMException types live with it, in
``runtime/websocket.py``.)
"""

from __future__ import annotations


class Error(Exception):
    """JS ``Error``."""


class RangeError(ValueError):
    """JS ``RangeError``."""
