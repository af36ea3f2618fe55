"""Limits and timeouts of the public HTTP ports (the edge router and ``dev``).

One dataclass for both fronts, so a user sets them the same way: ``--http-limit KEY=VALUE``
on ``dev`` and on ``edge start`` (there are no config keys for them). The defaults follow
Cloudflare where it has a number (a request body above 100 MB is answered 413; request headers
up to 32 KB) and otherwise keep a slow or idle client from holding a connection, and thus a
file descriptor, for long.
"""

from __future__ import annotations

import asyncio
import errno
import resource
import sys
from dataclasses import dataclass, fields, replace
from typing import Any

from wranglerpy.errors import UsageError

MB = 1000 * 1000
CLOUDFLARE_MAX_BODY = 100 * MB  # Cloudflare's Free/Pro plans answer 413 above this


def _default_connections() -> int:
    # Half the descriptors, less a margin for the worker sockets, logs and state files of this
    # process. No fixed cap below that: a chat room of 1,000 hibernated WebSockets is ordinary.
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 10_000
    return max(16, soft // 2 - 64)


@dataclass(frozen=True)
class HttpLimits:
    header_timeout: float = 10.0  # seconds to send a whole request head, once begun
    body_timeout: float = 30.0  # seconds without a byte of a request body
    idle_timeout: float = 60.0  # seconds a kept-alive connection may wait for its next request
    max_connections: int = 0  # 0: from the process's descriptor limit
    max_body: int = CLOUDFLARE_MAX_BODY  # bytes; larger bodies are answered 413
    max_head: int = 32 * 1024  # bytes of request line and headers; larger is 431

    def __post_init__(self) -> None:
        if self.max_connections <= 0:
            object.__setattr__(self, "max_connections", _default_connections())

    def with_values(self, values: dict[str, Any], where: str) -> HttpLimits:
        """These limits with ``values`` (keys as the field names) applied, checked."""
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if value is None:
                continue
            if key not in KEYS:
                raise UsageError(f"{where}: unknown HTTP limit {key!r} (one of {', '.join(KEYS)})")
            kind = KEYS[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise UsageError(f"{where}: {key} must be a positive number, got {value!r}")
            changes[key] = kind(value)
        return replace(self, **changes)


# Each limit's name and type (float seconds, int counts), as the dataclass declares them.
KEYS: dict[str, type] = {f.name: type(f.default) for f in fields(HttpLimits)}


def parse_limits(items: list[str], flag: str = "--http-limit") -> HttpLimits:
    """``KEY=VALUE`` items (``max-body=50000000``, ``idle_timeout=5``) as HttpLimits."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            raise UsageError(f"{flag} {item!r}: expected KEY=VALUE (keys: {', '.join(KEYS)})")
        try:
            values[key] = float(text)
        except ValueError:
            raise UsageError(f"{flag} {item!r}: {text!r} is not a number") from None
    return HttpLimits().with_values(values, flag)


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, every: float = 10.0) -> None:
    """Out of descriptors ("too many open files"), asyncio logs a traceback per failed accept:
    one line every ``every`` seconds instead; other errors go to the usual handler."""
    last = [-every]

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE):
            now = loop.time()
            if now - last[0] >= every:
                last[0] = now
                print(
                    f"✘ [ERROR] out of file descriptors ({error.strerror}): new connections "
                    "wait; lower --http-limit max_connections or raise `ulimit -n`",
                    file=sys.stderr,
                )
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handle)
