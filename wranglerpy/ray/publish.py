"""``wranglerpy deploy --target ray``: the same version snapshots as the local edge, each run
as a Serve application whose working directory is the version's folder (uploaded by Ray from
this machine to the cluster: nothing is fetched from the internet).

A switch (deploy or rollback) runs the version's application (Serve starts every new replica
before it stops an old one, and old ones finish their calls within the graceful-shutdown
time), records the deployment, then points the ingress's routing table at what is live. The
history and the snapshots stay in the Ray target's folder (``~/.wranglerpy/ray`` by default,
the same layout as the edge's), so ``deployments list``, ``versions list`` and ``rollback``
read them as they do for the edge.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wranglerpy.bindings.version_metadata import VersionInfo
from wranglerpy.config.schema import ServiceBinding, WorkerConfig
from wranglerpy.deploy.history import Deployment, DeploymentLog
from wranglerpy.deploy.paths import EdgePaths
from wranglerpy.deploy.publish import plan
from wranglerpy.deploy.versions import Version, load_version, snapshot
from wranglerpy.errors import DeployError
from wranglerpy.ray.cluster import AI_APP, INGRESS_APP, connect, default_ray_dir, start_serve
from wranglerpy.ray.placement import DEFAULT_FILE, Placement

Echo = Callable[[str], None]


@dataclass(frozen=True)
class RayTarget:
    """Where and how to deploy: the cluster, the placement, the local history folder."""

    paths: EdgePaths
    address: str | None = None
    placement: Placement = Placement()
    placement_file: Path | None = None  # kept in the history folder for later rollbacks
    http_port: int | None = None
    proxy_location: str = "EveryNode"
    persist_dir: Path | None = None  # binding state on each node (default: <ray dir>/state)

    @staticmethod
    def resolve(state_dir: Path | None = None, **kwargs: Any) -> RayTarget:
        return RayTarget(EdgePaths.resolve(state_dir or default_ray_dir()), **kwargs)

    @property
    def state(self) -> Path:
        return self.persist_dir or self.paths.state

    def connect(self) -> None:
        connect(self.address)
        start_serve(self.http_port, self.proxy_location)


def _deployment(cls: type, name: str, options: dict[str, Any]) -> Any:
    """``serve.deployment`` of ``cls`` (typed loosely: Ray's stubs vary between releases)."""
    from ray import serve

    make: Any = serve.deployment
    return make(cls, name=name, **options)


def service_app(binding: ServiceBinding, deployed: set[str]) -> str:
    """The application a binding calls: ``<service>-<environment>`` when deployed, else the
    service (as bindings resolve on the edge)."""
    if binding.environment and f"{binding.service}-{binding.environment}" in deployed:
        return f"{binding.service}-{binding.environment}"
    return binding.service


def deploy(
    workers: Sequence[WorkerConfig], target: RayTarget, echo: Echo, *, message: str = ""
) -> list[Version]:
    """Snapshot and switch each worker, binding targets first; the versions deployed."""
    log = DeploymentLog(target.paths.deployments)
    ordered = plan(workers, set(log.workers()))
    target.connect()
    if any(w.ai is not None for w in ordered):
        ensure_ai(target, echo)
    if any(
        w.d1_databases or w.analytics_engine_datasets or w.durable_objects or _messaging(w)
        for w in ordered
    ):
        from wranglerpy.ray.primary import ensure_primary

        ensure_primary(target.state, target.placement.primary.resources)
    if target.placement_file is not None and target.placement_file.is_file():
        target.paths.root.mkdir(parents=True, exist_ok=True)
        kept = target.paths.root / DEFAULT_FILE
        if target.placement_file.resolve() != kept.resolve():
            shutil.copyfile(target.placement_file, kept)
    versions = []
    for worker in ordered:
        version = snapshot(worker, target.paths)
        echo(f"Uploaded {worker.name} (version {version.id})")
        switch(target, version, echo, message=message, source="deploy")
        versions.append(version)
    return versions


def _messaging(worker: WorkerConfig) -> bool:
    """Queues and Workflows keep their state in the primary too (ray/stores.py)."""
    return bool(worker.queue_producers or worker.queue_consumers or worker.workflows)


def ensure_ai(target: RayTarget, echo: Echo) -> None:
    """The shared model deployment (updated in place when ray.toml changed)."""
    from ray import serve

    from wranglerpy.ray.ai import ModelDeployment

    options = target.placement.ai.deployment_options()
    app = _deployment(ModelDeployment, AI_APP, options).bind()
    started = time.perf_counter()
    serve.run(app, name=AI_APP, route_prefix=None)
    echo(
        f"AI model service: {target.placement.ai.replicas} replica(s), "
        f"{target.placement.ai.max_ongoing_requests} streams each "
        f"({time.perf_counter() - started:.2f} sec)"
    )


def switch(
    target: RayTarget, version: Version, echo: Echo, *, message: str = "", source: str = "deploy"
) -> float:
    """Run ``version`` as its worker's application, record it, route to it; seconds taken."""
    from ray import serve

    from wranglerpy.ray.replica import WorkerReplica
    from wranglerpy.runtime.spec import WorkerSpec

    log = DeploymentLog(target.paths.deployments)
    config = version.config()
    deployed = set(log.workers()) | {config.name}
    services = {b.binding: service_app(b, deployed) for b in config.services}
    source_dir = version.directory / "src"
    spec = WorkerSpec(
        config=config,
        persist_dir=target.state,
        registry_dir=Path(tempfile.gettempdir()),  # replaced in the replica
        mode="edge",
        expose_errors=False,
        python_path=version.python_path,
        drain_seconds=target.placement.worker(config.name).graceful_shutdown_s,
        version=VersionInfo(version.id, version.tag, version.created_on),
    )
    options = target.placement.worker(config.name).deployment_options()
    options["ray_actor_options"]["runtime_env"] = {
        "working_dir": upload_version(source_dir),
        "env_vars": {"WRANGLERPY_AI_HOST": "ray"},
    }
    app = _deployment(WorkerReplica, config.name, options).bind(
        spec.encode(), str(source_dir), services
    )
    started = time.perf_counter()
    try:
        serve.run(app, name=config.name, route_prefix=None)
    except Exception as exc:  # noqa: BLE001 - Serve's failure, one line, nothing recorded
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DeployError(f'Deploying "{config.name}" to Ray failed: {first}') from None
    seconds = time.perf_counter() - started
    if config.durable_objects:  # where its objects start (their storage is the primary's)
        from wranglerpy.ray.objects import ObjectTarget, register_target

        runtime_env = options["ray_actor_options"]["runtime_env"]
        register_target(
            ObjectTarget(
                config.name, version.id, spec.encode(), str(source_dir), services, runtime_env
            )
        )
    log.record(Deployment.new(config.name, version.id, message, source))
    update_ingress(target)
    if config.workers_dev:
        echo(f"Deployed {config.name} ({seconds:.2f} sec): host {config.name.lower()}.localhost")
    elif config.routes:
        echo(
            f"Deployed {config.name} ({seconds:.2f} sec): routes "
            + ", ".join(r.pattern for r in config.routes)
        )
    else:
        echo(f"Deployed {config.name} ({seconds:.2f} sec): internal (service bindings only)")
    echo(f"Current Version ID: {version.id}")
    return seconds


def upload_version(source: Path) -> str:
    """Ship a version's folder into the cluster's own store (GCS) under a content-addressed
    ``gcs://`` URI, as ``ray.init(runtime_env=...)`` does for a job (Serve accepts only URIs
    for a deployment's working_dir). The same content is uploaded once."""
    from ray._private.runtime_env.packaging import (
        get_uri_for_directory,
        upload_package_if_needed,
    )

    uri: str = get_uri_for_directory(str(source), include_gitignore=False)
    with tempfile.TemporaryDirectory(prefix="wrp-upload-") as scratch:
        upload_package_if_needed(
            uri, scratch, str(source), include_gitignore=False, logger=logging.getLogger(__name__)
        )
    return uri


def live_routes(paths: EdgePaths) -> dict[str, tuple[bool, tuple[str, ...]]]:
    """name -> (workers_dev, route patterns) of every live deployment."""
    log = DeploymentLog(paths.deployments)
    table: dict[str, tuple[bool, tuple[str, ...]]] = {}
    for name in log.workers():
        current = log.current(name)
        if current is None:
            continue
        config = load_version(paths, current.version_id).config()
        table[name] = (config.workers_dev, tuple(r.pattern for r in config.routes))
    return table


def update_ingress(target: RayTarget) -> None:
    """Point the ingress at what is live (a user_config change: no replica restarts)."""
    from ray import serve

    from wranglerpy.ray.ingress import Ingress, routing_config

    options = target.placement.ingress.deployment_options()
    options["user_config"] = routing_config(live_routes(target.paths))
    # An ASGI ingress (built by Ingress itself), so Serve's proxies hand it WebSockets too.
    app = _deployment(serve.ingress()(Ingress), "ingress", options).bind()
    serve.run(app, name=INGRESS_APP, route_prefix="/")


def rollback(
    target: RayTarget, name: str, version_id: str, echo: Echo, *, message: str = ""
) -> float:
    version = load_version(target.paths, version_id)
    if version.worker != name:
        raise DeployError(f"Version {version_id} belongs to {version.worker}, not {name}.")
    target.connect()
    return switch(target, version, echo, message=message, source="rollback")
