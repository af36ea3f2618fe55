"""Calling a handler with only the arguments it accepts, as Pyodide's ``relaxed_call`` does.

Cloudflare calls ``fetch``, ``scheduled`` and the other event handlers this way, so
``async def fetch(self)`` (no request) and ``on_fetch(request)`` (no env, ctx) both work.
"""

from __future__ import annotations

import inspect
from typing import Any


def relaxed_call(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``func``, dropping positional and keyword arguments its signature cannot take."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: pass everything
        return func(*args, **kwargs)
    if not any(p.kind == p.VAR_POSITIONAL for p in params):
        room = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        args = args[:room]
    if not any(p.kind == p.VAR_KEYWORD for p in params):
        named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        kwargs = {k: v for k, v in kwargs.items() if k in named}
    return func(*args, **kwargs)
