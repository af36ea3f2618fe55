"""Compatibility date and flags, for the behaviours of Python Workers that depend on them
(workerd ``src/workerd/io/compatibility-date.capnp``)."""

from __future__ import annotations

from dataclasses import dataclass

from wranglerpy.config.compat_date import effective_date

# compatibility-date.capnp:915-918 pythonNoGlobalHandlers.
NO_GLOBAL_HANDLERS_DATE = "2025-08-14"
# compatibility-date.capnp:655-659 pythonWorkers20250116 (Pyodide 0.28.2).
PYODIDE_028_DATE = "2025-09-29"
LATER_PYODIDE_FLAGS = ("python_workers_20260610", "python_workers_20260817")
# compatibility-date.capnp:103-108 durableObjectFetchRequiresSchemeAuthority.
DO_FETCH_FULL_URL_DATE = "2021-11-10"
# compatibility-date.capnp:460-464 fetchStandardUrl.
FETCH_STANDARD_URL_DATE = "2024-06-03"
# compatibility-date.capnp:1237-1240 fetchIterableTypeSupport.
FETCH_ITERABLE_TYPE_SUPPORT_DATE = "2026-02-19"


@dataclass(frozen=True)
class Compat:
    date: str
    flags: frozenset[str] = frozenset()

    @classmethod
    def of(cls, date: str | None = None, flags: tuple[str, ...] | frozenset[str] = ()) -> Compat:
        """No date means today's behaviour, as wrangler uses the current date then."""
        return cls(effective_date(date), frozenset(flags))

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

    @property
    def pyodide_028_or_later(self) -> bool:
        """Pyodide 0.28+ (``python_workers_20250116``, implied from 2025-09-29,
        compatibility-date.capnp:655-659; the later 3.14 bundles are flag-only,
        build/python_metadata.bzl) rather than 0.26.0a2."""
        if any(flag in self.flags for flag in LATER_PYODIDE_FLAGS):
            return True
        return self.enabled(
            "python_workers_20250116", "no_python_workers_20250116", PYODIDE_028_DATE
        )

    @property
    def fetch_standard_url(self) -> bool:
        """WHATWG URL parsing in ``fetch``/``Request`` (a relative URL: ``Invalid URL: /x``);
        before, the legacy parser (``Fetch API cannot load: /x``)."""
        return self.enabled("fetch_standard_url", "fetch_legacy_url", FETCH_STANDARD_URL_DATE)

    @property
    def durable_object_fetch_requires_full_url(self) -> bool:
        """A Durable Object stub's ``fetch`` needs a full URL; before, a relative one resolved
        against ``https://fake-host/`` (``api/actor.c++:247-249``, ``api/http.c++:2570-2584``)."""
        return self.enabled(
            "durable_object_fetch_requires_full_url",
            "durable_object_fetch_allows_relative_url",
            DO_FETCH_FULL_URL_DATE,
        )

    @property
    def stub_fetch_base(self) -> str | None:
        """What a stub's relative URL resolves against: ``https://fake-host/`` only with both
        the legacy URL parser (the standard one refuses ``/x`` in the ``Request`` constructor,
        ``api/http.c++:353-356``) and relative stub URLs allowed; else none (an error)."""
        if self.fetch_standard_url or self.durable_object_fetch_requires_full_url:
            return None
        return "https://fake-host/"

    @property
    def fetch_iterable_type_support(self) -> bool:
        """Iterables as ``fetch``/``Response`` bodies are iterated (before: stringified)."""
        return self.enabled(
            "fetch_iterable_type_support",
            "no_fetch_iterable_type_support",
            FETCH_ITERABLE_TYPE_SUPPORT_DATE,
        )


_process: Compat | None = None


def set_process(compat: Compat) -> None:
    """The compatibility of the worker this process runs (set when its module is imported)."""
    global _process
    _process = compat


def process() -> Compat:
    """This process's worker's compatibility; today's behaviour before a worker is loaded."""
    return _process or Compat.of()
