"""``ray.toml``: how many replicas each deployment gets and where they go (Ray resources).

Beside the wrangler configs (wrangler.toml stays what Cloudflare reads)::

    [ai]                        # the one shared model deployment
    replicas = 1
    max_ongoing_requests = 64   # concurrent generations per replica (Ray's default is 5)
    resources = { node_a = 1 }  # custom resources of `ray start --resources`

    [workers.inference-ui-streaming]
    replicas = 2
    resources = { node_b = 1 }

    [ingress]
    replicas = 1

    [primary]                   # the actor owning every D1 / Analytics Engine file
    resources = { node_a = 1 }

Every key is optional; a missing file means one replica of each, anywhere.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from wranglerpy.errors import ConfigError

DEFAULT_FILE = "ray.toml"
DEFAULT_ONGOING = 100  # a replica's concurrent requests: SSE streams mostly wait
DEFAULT_AI_ONGOING = 64
# Longer than the longest SSE stream a rollout should let finish (the edge gives 30 s).
DEFAULT_GRACE_S = 60.0


@dataclass(frozen=True)
class DeploymentPlacement:
    replicas: int = 1
    max_ongoing_requests: int = DEFAULT_ONGOING
    resources: dict[str, float] = field(default_factory=dict)
    num_cpus: float = 0.0  # replicas mostly wait on I/O; pin them with resources instead
    graceful_shutdown_s: float = DEFAULT_GRACE_S

    def deployment_options(self) -> dict[str, Any]:
        """Keyword arguments of ``serve.deployment``."""
        return {
            "num_replicas": self.replicas,
            "max_ongoing_requests": self.max_ongoing_requests,
            "ray_actor_options": {"num_cpus": self.num_cpus, "resources": dict(self.resources)},
            "graceful_shutdown_timeout_s": self.graceful_shutdown_s,
            # Start every new replica before an old one stops: a rollout never has fewer
            # replicas than before, and old ones drain their streams.
            "max_surge_percent": 100,
            "rolling_update_percentage": 1.0,
        }


@dataclass(frozen=True)
class Placement:
    ingress: DeploymentPlacement = DeploymentPlacement()
    ai: DeploymentPlacement = DeploymentPlacement(max_ongoing_requests=DEFAULT_AI_ONGOING)
    workers: dict[str, DeploymentPlacement] = field(default_factory=dict)
    primary: DeploymentPlacement = DeploymentPlacement()  # D1/AE single primary: resources

    def worker(self, name: str) -> DeploymentPlacement:
        return self.workers.get(name) or DeploymentPlacement()


_KEYS = {"replicas", "max_ongoing_requests", "resources", "num_cpus", "graceful_shutdown_s"}


def _one(data: Any, where: str, path: Path, ongoing: int) -> DeploymentPlacement:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [{where}] must be a table.")
    unknown = set(data) - _KEYS
    if unknown:
        raise ConfigError(f"{path}: [{where}] has unknown key(s): {', '.join(sorted(unknown))}.")

    def number(key: str, default: float, low: float) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
            raise ConfigError(f"{path}: [{where}] {key} must be a number >= {low:g}.")
        return float(value)

    resources = data.get("resources", {})
    if not isinstance(resources, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in resources.values()
    ):
        raise ConfigError(f"{path}: [{where}] resources must map names to positive numbers.")
    for key in ("replicas", "max_ongoing_requests"):
        if key in data and not isinstance(data[key], int):
            raise ConfigError(f"{path}: [{where}] {key} must be a whole number.")
    return DeploymentPlacement(
        replicas=int(number("replicas", 1, 1)),
        max_ongoing_requests=int(number("max_ongoing_requests", ongoing, 1)),
        resources={str(k): float(v) for k, v in resources.items()},
        num_cpus=number("num_cpus", 0.0, 0),
        graceful_shutdown_s=number("graceful_shutdown_s", DEFAULT_GRACE_S, 0),
    )


def load_placement(path: Path | None) -> Placement:
    """The placement in ``path`` (None or a missing default file: the defaults)."""
    if path is None or not path.is_file():
        return Placement()
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    unknown = set(data) - {"ingress", "ai", "workers", "primary"}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s): {', '.join(sorted(unknown))}.")
    workers = data.get("workers", {})
    if not isinstance(workers, dict):
        raise ConfigError(f"{path}: [workers] must hold one table per worker name.")
    return Placement(
        ingress=_one(data.get("ingress", {}), "ingress", path, DEFAULT_ONGOING),
        ai=_one(data.get("ai", {}), "ai", path, DEFAULT_AI_ONGOING),
        primary=_one(data.get("primary", {}), "primary", path, DEFAULT_ONGOING),
        workers={
            str(name): _one(item, f"workers.{name}", path, DEFAULT_ONGOING)
            for name, item in workers.items()
        },
    )
