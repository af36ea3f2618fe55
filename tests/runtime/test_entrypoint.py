"""``relaxed_call``: a handler gets only the arguments its signature can take."""

from __future__ import annotations

from typing import Any

from wranglerpy.runtime.entrypoint import relaxed_call


def test_extra_positional_arguments_are_dropped() -> None:
    assert relaxed_call(lambda: "none", 1, 2, 3) == "none"
    assert relaxed_call(lambda a, b=0: (a, b), 1, 2, 3) == (1, 2)


def test_star_args_and_star_kwargs_take_everything() -> None:
    def everything(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        return args, kwargs

    assert relaxed_call(everything, 1, 2, x=3) == ((1, 2), {"x": 3})


def test_unknown_keywords_are_dropped_but_known_ones_kept() -> None:
    def handler(request: Any, *, env: Any = None) -> tuple[Any, Any]:
        return request, env

    assert relaxed_call(handler, "req", env="E", ctx="C") == ("req", "E")


def test_bound_methods_do_not_count_self() -> None:
    class Entry:
        def fetch(self) -> str:
            return "ok"

    assert relaxed_call(Entry().fetch, "request") == "ok"


def test_callables_without_a_signature_get_everything() -> None:
    assert relaxed_call(max, 3, 9) == 9
