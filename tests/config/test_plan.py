from __future__ import annotations

import re
from pathlib import Path

import pytest

from wranglerpy.config.plan import (
    assign_ports,
    dependency_order,
    parse_worker_ports,
    service_target,
)
from wranglerpy.config.schema import Dev, ServiceBinding, WorkerConfig
from wranglerpy.errors import ConfigError


def worker(
    name: str,
    port: int | None = None,
    services: tuple[str, ...] = (),
    *,
    base: str | None = None,
    env: str | None = None,
) -> WorkerConfig:
    return WorkerConfig(
        name=name,
        config_path=Path(f"/p/{name}/wrangler.toml"),
        main=None,
        base_name=base or name,
        env_name=env,
        dev=Dev(port=port),
        services=tuple(ServiceBinding(f"S{i}", s) for i, s in enumerate(services)),
    )


def always(_port: int) -> bool:
    return True


def test_primary_defaults_to_8787_others_follow() -> None:
    ports = assign_ports([worker("a"), worker("b"), worker("c")], None, always)
    assert ports == {"a": 8787, "b": 8788, "c": 8789}


def test_primary_port_flag_beats_dev_port() -> None:
    ports = assign_ports([worker("a", 9000), worker("b")], 7000, always)
    assert ports == {"a": 7000, "b": 7001}


def test_primary_dev_port_and_own_ports_kept() -> None:
    ports = assign_ports([worker("a", 9000), worker("b", 9500), worker("c")], None, always)
    assert ports == {"a": 9000, "b": 9500, "c": 9001}


def test_auto_ports_skip_busy_and_reserved_ports() -> None:
    busy = {8788}
    workers = [worker("a"), worker("b"), worker("c", 8789)]
    ports = assign_ports(workers, None, lambda p: p not in busy)
    # b cannot take 8788 (busy) nor 8789 (reserved by c, later in the list).
    assert ports == {"a": 8787, "b": 8790, "c": 8789}


def test_duplicate_explicit_dev_ports_are_an_error() -> None:
    """Issue 18, finding 16: the second config used to be moved to another port silently."""
    with pytest.raises(ConfigError, match=r"/p/b/wrangler.toml \[dev.port\]: \[dev\] port 8787 "):
        assign_ports([worker("a", 8787), worker("b", 8787)], None, always)
    with pytest.raises(ConfigError, match="already the port of worker 'c'"):
        assign_ports([worker("a"), worker("c", 9000), worker("d", 9000)], None, always)
    with pytest.raises(ConfigError, match="already the port of worker 'a'"):
        assign_ports([worker("a", 9000), worker("b", 7000)], 7000, always)


def test_port_zero_means_any() -> None:
    ports = assign_ports([worker("a"), worker("b", 0), worker("c", 0)], 0, always)
    assert ports == {"a": 0, "b": 0, "c": 0}
    ports = assign_ports([worker("a", 0), worker("b")], None, always)
    assert ports == {"a": 0, "b": 8788}


def test_explicit_ports_are_not_checked() -> None:
    ports = assign_ports([worker("a", 9000), worker("b", 9001)], None, lambda _p: False)
    assert ports == {"a": 9000, "b": 9001}


def test_no_free_port_left() -> None:
    with pytest.raises(ConfigError, match="no free port"):
        assign_ports([worker("a", 65535), worker("b")], None, always)


def test_empty() -> None:
    assert assign_ports([], 8787, always) == {}


def names(ws: list[WorkerConfig]) -> list[str]:
    return [w.name for w in ws]


def test_dependency_order_targets_first_and_stable() -> None:
    ws = [worker("api", services=("streaming", "auth")), worker("auth"), worker("streaming")]
    assert names(dependency_order(ws)) == ["auth", "streaming", "api"]
    independent = [worker("x"), worker("y"), worker("z")]
    assert names(dependency_order(independent)) == ["x", "y", "z"]


def test_dependency_order_ignores_outside_and_self() -> None:
    ws = [worker("a", services=("elsewhere", "a")), worker("b", services=("a",))]
    assert names(dependency_order(ws)) == ["a", "b"]


def test_dependency_cycle_is_named() -> None:
    ws = [worker("a", services=("b",)), worker("b", services=("c",)), worker("c", services=("a",))]
    with pytest.raises(ConfigError) as info:
        dependency_order(ws)
    assert "a -> b -> c -> a" in str(info.value)
    with pytest.raises(ConfigError, match="x -> y -> x"):
        dependency_order([worker("x", services=("y",)), worker("y", services=("x",))])


def test_service_target_by_env() -> None:
    prod = worker("streaming-production", base="streaming", env="production")
    ws = [worker("api"), prod]
    assert service_target(ServiceBinding("S", "streaming", "production"), ws) is prod
    assert service_target(ServiceBinding("S", "streaming-production"), ws) is prod
    assert service_target(ServiceBinding("S", "streaming", "staging"), ws) is None
    assert service_target(ServiceBinding("S", "streaming"), ws) is None


def test_worker_ports_move_any_worker_and_star_moves_the_rest() -> None:
    workers = [worker("a", 8787), worker("b", 8788), worker("c", 8789)]
    assert assign_ports(workers, None, always, {"b": 9100}) == {"a": 8787, "b": 9100, "c": 8789}
    assert assign_ports(workers, 9000, always, {"*": 0}) == {"a": 9000, "b": 0, "c": 0}
    assert assign_ports(workers, None, always, {"*": 0, "c": 7000}) == {"a": 0, "b": 0, "c": 7000}


def test_parse_worker_ports_names_the_mistake() -> None:
    assert parse_worker_ports(["b=9100", "*=0"], ["a", "b"]) == {"b": 9100, "*": 0}
    for bad, message in (
        ("b:9100", "expected NAME=PORT"),
        ("b=99999", "expected NAME=PORT"),
        ("zz=9100", "no worker named 'zz' (workers: a, b)"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            parse_worker_ports([bad], ["a", "b"])
