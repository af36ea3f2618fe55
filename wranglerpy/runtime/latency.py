"""``edge start --simulate-latency``: the network that placement implies, added locally.

The edge puts the model for a worker's placement in its ``WorkerSpec``; the worker process
wraps its storage and AI bindings with it as it builds ``env`` (see ``child.build_env``).

On this machine every binding is a function call away, so placement changes nothing. With
the model on, the edge adds the round trips a real deployment would pay, from the seeds'
smart-placement table:

=========================  ====================  ==================
leg (one round trip)       placement off         placement smart
=========================  ====================  ==================
client ↔ worker            0 ms (nearest PoP)    +60 ms (near data)
KV / D1 / R2 call          +100 ms               +3 ms
Workers AI call            +100 ms               +3 ms
service binding call       0 ms                  0 ms
=========================  ====================  ==================

Off: the worker runs in the data center nearest the client and every storage call crosses
the ocean (D1 "50–150 ms"); smart: the worker runs beside its data ("1–5 ms") and only the
first hop is longer. Storage and AI delays happen inside the worker, so they show in
``tail`` durations; the client leg is added by the router, so it shows in the client's time.
A ``hint``/``region`` placement counts as smart. Analytics Engine writes are fire-and-forget
and get no delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from wranglerpy.config.schema import Placement, WorkerConfig
from wranglerpy.runtime.binding_proxy import BindingProxy


@dataclass(frozen=True)
class LatencyModel:
    client_ms: float
    storage_ms: float
    ai_ms: float

    def for_kind(self, kind: str) -> float:
        if kind == "ai":
            return self.ai_ms
        if kind == "analytics_engine_datasets":
            return 0.0
        return self.storage_ms


OFF = LatencyModel(client_ms=0.0, storage_ms=100.0, ai_ms=100.0)
SMART = LatencyModel(client_ms=60.0, storage_ms=3.0, ai_ms=3.0)


def model_for(placement: Placement | None) -> LatencyModel:
    if placement is None:
        return OFF
    if placement.mode == "smart" or placement.hint or placement.region or placement.host:
        return SMART
    return OFF


class Delayed(BindingProxy):
    """Wraps a binding: every call that returns an awaitable waits ``seconds`` first (objects
    it hands out are wrapped alike, see ``binding_proxy.py``)."""

    __slots__ = ("_seconds", "_sleep")

    def __init__(
        self,
        target: Any,
        seconds: float,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        super().__init__(target)
        self._seconds = seconds
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"<{self._target!r} +{self._seconds * 1000:.0f} ms>"

    def _wrap(self, target: Any) -> Delayed:
        return Delayed(target, self._seconds, self._sleep)

    async def _around(self, method: str, args: tuple[Any, ...], awaitable: Awaitable[Any]) -> Any:
        await self._sleep(self._seconds)
        return await awaitable


def binding_kinds(config: WorkerConfig) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for kind in ("kv_namespaces", "d1_databases", "r2_buckets", "analytics_engine_datasets"):
        for binding in getattr(config, kind):
            kinds[binding.binding] = kind
    if config.ai:
        kinds[config.ai.binding] = "ai"
    return kinds


def delay_bindings(
    bindings: dict[str, Any], kinds: dict[str, str], model: LatencyModel
) -> dict[str, Any]:
    """``bindings`` (name -> object) with each wrapped by its kind's delay (0: unchanged)."""
    wrapped = {}
    for name, binding in bindings.items():
        seconds = model.for_kind(kinds.get(name, "")) / 1000
        wrapped[name] = Delayed(binding, seconds) if seconds > 0 else binding
    return wrapped
