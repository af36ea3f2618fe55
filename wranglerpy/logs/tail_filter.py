"""``wranglerpy tail`` filters, with ``wrangler tail``'s meaning; all given filters must match.

``--status`` ok|error|canceled (error: the worker threw), ``--method`` (any of), ``--header``
NAME or NAME:VALUE (any of), ``--search`` (text in a log message or exception), ``--ip`` (the
client address; ``self`` is this machine), ``--sampling-rate`` (keep that fraction).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wranglerpy.errors import UsageError

STATUSES = {"ok": {"ok"}, "error": {"exception", "exceededCpu", "exceededMemory", "unknown"}}
STATUSES["canceled"] = {"canceled"}
SELF_IPS = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class TailFilter:
    statuses: frozenset[str] = frozenset()
    methods: frozenset[str] = frozenset()
    headers: tuple[tuple[str, str | None], ...] = ()
    search: str | None = None
    ips: frozenset[str] = frozenset()
    sampling_rate: float = 1.0
    random: Callable[[], float] = field(default=random.random, compare=False)

    @staticmethod
    def build(
        status: Sequence[str] = (),
        method: Sequence[str] = (),
        header: Sequence[str] = (),
        search: str | None = None,
        ip: Sequence[str] = (),
        sampling_rate: float = 1.0,
    ) -> TailFilter:
        outcomes: set[str] = set()
        for item in status:
            if item not in STATUSES:
                raise UsageError(f"--status must be ok, error or canceled, got {item!r}")
            outcomes |= STATUSES[item]
        if not 0.0 < sampling_rate <= 1.0:
            raise UsageError(f"--sampling-rate must be in (0, 1], got {sampling_rate}")
        pairs: list[tuple[str, str | None]] = []
        for item in header:
            name, sep, value = item.partition(":")
            if not name.strip():
                raise UsageError(f"--header expects NAME or NAME:VALUE, got {item!r}")
            pairs.append((name.strip().lower(), value.strip() if sep else None))
        ips: set[str] = set()
        for item in ip:
            ips |= SELF_IPS if item == "self" else {item}
        return TailFilter(
            frozenset(outcomes),
            frozenset(m.upper() for m in method),
            tuple(pairs),
            search,
            frozenset(ips),
            sampling_rate,
        )

    def accepts(self, tail: dict[str, Any]) -> bool:
        if self.statuses and tail.get("outcome") not in self.statuses:
            return False
        request = (tail.get("event") or {}).get("request")
        if self.methods and (
            request is None or request.get("method", "").upper() not in self.methods
        ):
            return False
        if self.headers:
            present = {k.lower(): v for k, v in ((request or {}).get("headers") or {}).items()}
            if not any(
                name in present and (value is None or present[name] == value)
                for name, value in self.headers
            ):
                return False
        if self.ips and (request is None or request.get("cf", {}).get("clientIp") not in self.ips):
            return False
        if self.search is not None and not self._found(tail):
            return False
        return self.sampling_rate >= 1.0 or self.random() < self.sampling_rate

    def _found(self, tail: dict[str, Any]) -> bool:
        assert self.search is not None
        texts = [
            " ".join(str(m) for m in log.get("message") or []) for log in tail.get("logs") or []
        ]
        texts += [f"{e.get('name')}: {e.get('message')}" for e in tail.get("exceptions") or []]
        return any(self.search in text for text in texts)
