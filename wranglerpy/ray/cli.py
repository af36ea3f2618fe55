"""The CLI's side of ``--target ray``: small functions the deploy, rollback and tail
commands call, so those commands stay thin and never import Ray for the local edge."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from wranglerpy.config.schema import WorkerConfig
from wranglerpy.errors import UsageError
from wranglerpy.ray.cluster import default_ray_dir, require_ray
from wranglerpy.ray.placement import DEFAULT_FILE, load_placement
from wranglerpy.ray.publish import RayTarget

TARGETS = ("edge", "ray")
PROXY_LOCATIONS = ("EveryNode", "HeadOnly")
POLL_SECONDS = 0.5


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise UsageError(f"--target must be one of {', '.join(TARGETS)}, got {target!r}.")
    return target


def ray_state_dir(state_dir: Path | None) -> Path:
    """The folder of the Ray target's versions and history (not the edge's)."""
    return state_dir or default_ray_dir()


def make_target(
    state_dir: Path | None,
    address: str | None,
    placement_file: Path | None,
    workers: Sequence[WorkerConfig] = (),
    http_port: int | None = None,
    proxy_location: str = "EveryNode",
) -> RayTarget:
    if proxy_location not in PROXY_LOCATIONS:
        raise UsageError(
            f"--ray-proxy must be one of {', '.join(PROXY_LOCATIONS)}, got {proxy_location!r}."
        )
    folder = ray_state_dir(state_dir)
    if placement_file is not None and not placement_file.is_file():
        raise UsageError(f"--ray-config {placement_file}: no such file.")
    if placement_file is None:
        # Beside the configs when deploying; a rollback keeps what the last deploy used.
        placement_file = workers[0].root / DEFAULT_FILE if workers else folder / DEFAULT_FILE
    placement = load_placement(placement_file)  # its mistakes first: they need no cluster
    require_ray()
    return RayTarget.resolve(
        folder,
        address=address,
        placement=placement,
        placement_file=placement_file,
        http_port=http_port,
        proxy_location=proxy_location,
    )


def deploy_workers(
    workers: Sequence[WorkerConfig], target: RayTarget, echo: Callable[[str], None], message: str
) -> None:
    from wranglerpy.ray.publish import deploy

    if len(workers) > 1:
        echo("Deploy order (service-binding targets first): " + " → ".join(w.name for w in workers))
    deploy(workers, target, echo, message=message)


def follow_tail(
    name: str,
    address: str | None,
    on_event: Callable[[dict[str, Any]], None],
    stop: asyncio.Event,
) -> Any:
    """A coroutine that passes ``name``'s new events from the cluster to ``on_event``."""
    from wranglerpy.ray.cluster import connect
    from wranglerpy.ray.tail import tail_actor

    connect(address)
    actor = tail_actor()

    async def run() -> None:
        seq = await actor.last.remote()
        while not stop.is_set():
            seq, events = await actor.since.remote(seq)
            for event in events:
                if event.get("worker") == name and event.get("type") == "request":
                    on_event(event)
            if not events:
                with_timeout = asyncio.ensure_future(stop.wait())
                await asyncio.wait({with_timeout}, timeout=POLL_SECONDS)
                with_timeout.cancel()

    return run()


def rollback_on_ray(
    state_dir: Path | None,
    address: str | None,
    name: str,
    version_id: str,
    echo: Callable[[str], None],
    message: str,
) -> float:
    from wranglerpy.ray.publish import rollback

    target = make_target(state_dir, address, None)
    started = time.perf_counter()
    rollback(target, name, version_id, echo, message=message)
    return time.perf_counter() - started
