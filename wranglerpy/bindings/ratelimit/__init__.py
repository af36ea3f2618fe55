"""Rate limiting, locally: ``create(config, persist_dir)`` gives ``env.<RL>`` with
``limit({"key": ...})`` → ``{"success": bool}``.

State: ``<persist_dir>/ratelimit/<namespace_id>/ratelimit.sqlite``; every binding, worker and
process naming one ``namespace_id`` shares its counters (as on Cloudflare, where the namespace
is account-wide).
"""

from __future__ import annotations

from pathlib import Path

from wranglerpy.bindings._sqlite import state_dir
from wranglerpy.bindings.ratelimit.binding import RateLimitBinding
from wranglerpy.config.schema import RateLimit

__all__ = ["RateLimitBinding", "create", "namespace_path"]

DB_FILE = "ratelimit.sqlite"


def namespace_path(persist_dir: Path, namespace_id: str) -> Path:
    return state_dir(persist_dir, "ratelimit", namespace_id) / DB_FILE


def create(config: RateLimit, persist_dir: Path) -> RateLimitBinding:
    return RateLimitBinding(
        namespace_path(persist_dir, config.namespace_id), config.limit, config.period
    )
