"""Compatibility date and flags, for the behaviours of Python Workers that depend on them
(workerd ``src/workerd/io/compatibility-date.capnp``)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

# compatibility-date.capnp:915-918 pythonNoGlobalHandlers.
NO_GLOBAL_HANDLERS_DATE = "2025-08-14"


@dataclass(frozen=True)
class Compat:
    date: str
    flags: frozenset[str] = frozenset()

    @classmethod
    def of(cls, date: str | None = None, flags: tuple[str, ...] | frozenset[str] = ()) -> Compat:
        """No date means today's behaviour, as wrangler uses the current date then."""
        return cls(date or datetime.date.today().isoformat(), frozenset(flags))

    def enabled(self, flag: str, disable_flag: str, since: str | None) -> bool:
        if disable_flag in self.flags:
            return False
        return flag in self.flags or (since is not None and self.date >= since)

    @property
    def no_global_handlers(self) -> bool:
        """Handlers are methods of ``Default`` named ``fetch``; module-level ``on_fetch`` and
        friends are ignored (before: ``on_fetch``, also as ``Default``'s method name)."""
        return self.enabled(
            "python_no_global_handlers",
            "disable_python_no_global_handlers",
            NO_GLOBAL_HANDLERS_DATE,
        )
