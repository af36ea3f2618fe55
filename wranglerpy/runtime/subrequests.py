"""Binding calls as subrequests: the one place that charges them to ``[limits] subrequests``.

workerd counts a subrequest each time a binding opens a channel to the service behind it
(``IoContext::getSubrequest`` calls ``LimitEnforcer::newSubrequest``, ``io/io-context.c++:1066-
1070``): KV (``api/kv.c++:110-122``), R2 (``api/r2-bucket.c++:41-60``), Queues ``send`` and
``sendBatch`` (``api/queue.c++:272,403``), every call through a Durable Object stub
(``api/actor.c++:49-58``), and the bindings that are JS wrappers over a ``Fetcher``: D1
(``cloudflare/internal/d1-api.ts:361``), Workers AI (``ai-api.ts:196``), Vectorize
(``vectorize-api.ts:234``) and Workflows, and ``env.ASSETS``: a service binding to the assets
worker (miniflare ``plugins/assets/index.ts:105-112``), so a ``Fetcher`` whose ``fetch`` opens
a subrequest channel (``api/http.c++:2510-2516``). Analytics Engine is not a subrequest: a write has its
own limit (``api/analytics-engine.c++:17``, ``newAnalyticsEngineRequest``).

``fetch()``, service bindings and the Cache API count themselves (``runtime/fetch.py``,
``service.py``, ``cache_api.py``); everything else is counted here, by wrapping each binding as
``env`` is built: a call that returns an awaitable is one subrequest, charged when it is made,
so the call past the limit raises at once, as the JS call throws (``runtime/limits.py``).
Objects a binding hands out for further calls (a D1 statement, a Durable Object stub, an R2
multipart upload, a workflow instance) are wrapped alike; reading the body of an R2 object
already fetched is not a new subrequest.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import Any

from wranglerpy.runtime import limits
from wranglerpy.runtime.binding_proxy import BindingProxy, handed_out

# Binding kinds (config section names) whose calls are subrequests.
COUNTED_KINDS = (
    "kv_namespaces",
    "d1_databases",
    "r2_buckets",
    "queue_producers",
    "workflows",
    "vectorize",
    "ai",
    "durable_objects",
    "assets",
)

_makes_calls: dict[type, bool] = {}


def makes_calls(value: Any) -> bool:
    """Whether an object a binding handed out has calls of its own to count (a D1 statement,
    a stub), as opposed to a value (an id) or a fetched body (an R2 object)."""
    kind = type(value)
    known = _makes_calls.get(kind)
    if known is None:
        body = any(c.__name__ in ("R2Object", "R2ObjectBody") for c in kind.__mro__) or hasattr(
            kind, "__aiter__"
        )  # a stream (a streamed AI answer) is read, not called: wrapped, `async for` failed
        known = (
            not body
            and (
                hasattr(kind, "__getattr__")  # a stub: any method name is a call
                or any(inspect.iscoroutinefunction(v) for v in vars(kind).values())
                or any(
                    inspect.iscoroutinefunction(v)
                    for c in kind.__mro__[1:-1]
                    for v in vars(c).values()
                )
            )
        )
        _makes_calls[kind] = known
    return known


class Counted(BindingProxy):
    """A binding (or an object it handed out) whose every awaited call is a subrequest."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(self._target)

    def _wrap(self, target: Any) -> BindingProxy:
        return Counted(target)

    def _around(  # type: ignore[override]  # counts now, returns the awaitable to await
        self, method: str, args: tuple[Any, ...], awaitable: Awaitable[Any]
    ) -> Awaitable[Any]:
        try:
            limits.count_subrequest()
        except BaseException:
            if inspect.iscoroutine(awaitable):
                awaitable.close()  # never started: no "never awaited" warning
            raise
        return self._result(awaitable)

    async def _result(self, awaitable: Awaitable[Any]) -> Any:
        result = await awaitable
        if handed_out(result) and makes_calls(result):
            return Counted(result)  # an R2 multipart upload, a workflow instance
        return result


def count_bindings(bindings: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    """``bindings`` (name -> object) with each of a counted kind wrapped in ``Counted``."""
    return {
        name: Counted(binding) if kinds.get(name) in COUNTED_KINDS else binding
        for name, binding in bindings.items()
    }


def binding_kinds(config: Any) -> dict[str, str]:
    """name -> config section of every binding in ``config`` that ``count_bindings`` knows."""
    kinds: dict[str, str] = {}
    for kind in COUNTED_KINDS:
        if kind == "assets":
            if config.assets and config.assets.binding:
                kinds[config.assets.binding] = "assets"
        elif kind == "ai":
            if config.ai:
                kinds[config.ai.binding] = "ai"
        elif kind == "durable_objects":
            for binding in config.durable_objects:
                kinds[binding.name] = kind
        else:
            for binding in getattr(config, kind):
                kinds[binding.binding] = kind
    return kinds
