"""The parsed shape of a wrangler config: frozen dataclasses, built once by ``load``.

Nothing downstream of ``wranglerpy.config.load`` reads TOML, JSON or dicts: it reads these.
Field names follow wrangler's keys (snake_case as in ``wrangler.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from wranglerpy.config.durable_objects import DurableObjectBinding, Migration
from wranglerpy.config.limits import Limits
from wranglerpy.config.queues import QueueConsumer, QueueProducer
from wranglerpy.config.small_bindings import Hyperdrive, RateLimit, SendEmail, VersionMetadata
from wranglerpy.config.vectorize import VectorizeIndex
from wranglerpy.config.workflows import Workflow

PlacementMode = Literal["off", "smart"]


@dataclass(frozen=True)
class Placement:
    """``[placement]``: ``mode`` (off|smart) or a ``hint``, or an explicit region/host/hostname."""

    mode: PlacementMode | None = None
    hint: str | None = None
    region: str | None = None
    host: str | None = None
    hostname: str | None = None


@dataclass(frozen=True)
class ServiceBinding:
    """``[[services]]``: ``env.<binding>`` reaches worker ``service``."""

    binding: str
    service: str
    environment: str | None = None
    entrypoint: str | None = None


@dataclass(frozen=True)
class KVNamespace:
    """``[[kv_namespaces]]``. ``id`` defaults to the binding name locally, as wrangler does."""

    binding: str
    id: str
    preview_id: str | None = None


@dataclass(frozen=True)
class D1Database:
    """``[[d1_databases]]``. Locally the store is keyed by ``database_id`` or, without one,
    by ``database_name`` (falling back to the binding name)."""

    binding: str
    database_name: str | None = None
    database_id: str | None = None
    preview_database_id: str | None = None
    migrations_dir: str = "migrations"
    migrations_table: str = "d1_migrations"

    @property
    def storage_id(self) -> str:
        return self.database_id or self.database_name or self.binding


@dataclass(frozen=True)
class R2Bucket:
    """``[[r2_buckets]]``. ``bucket_name`` defaults to the binding name locally."""

    binding: str
    bucket_name: str
    jurisdiction: str | None = None
    preview_bucket_name: str | None = None


@dataclass(frozen=True)
class AnalyticsEngineDataset:
    """``[[analytics_engine_datasets]]``. ``dataset`` defaults to the binding name."""

    binding: str
    dataset: str


@dataclass(frozen=True)
class AIBinding:
    """``[ai]``. ``models`` overrides the Cloudflare-name → local-model table."""

    binding: str
    models: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Build:
    """``[build]``: a command run before start and on every reload."""

    command: str | None = None
    cwd: Path | None = None
    watch_dir: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Dev:
    """``[dev]``: where ``wranglerpy dev`` listens for this worker."""

    port: int | None = None
    ip: str | None = None
    local_protocol: str = "http"
    # wranglerpy's own: the key pair of the local S3 API (see wranglerpy/services)
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None


@dataclass(frozen=True)
class Triggers:
    """``[triggers]``: cron expressions for ``scheduled`` handlers."""

    crons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Observability:
    """``[observability]``: accepted and shown; logs are always on locally."""

    enabled: bool = False
    head_sampling_rate: float = 1.0


@dataclass(frozen=True)
class Assets:
    """``[assets]``: a static folder served before (or instead of) the worker."""

    directory: Path
    binding: str | None = None
    not_found_handling: str = "none"  # none | 404-page | single-page-application
    html_handling: str = "auto-trailing-slash"
    run_worker_first: bool | tuple[str, ...] = False  # or route patterns, "!" excludes


@dataclass(frozen=True)
class Route:
    """One entry of ``routes`` (a pattern string or a table)."""

    pattern: str
    zone_name: str | None = None
    zone_id: str | None = None
    custom_domain: bool = False


@dataclass(frozen=True)
class WorkerConfig:
    """One worker, with its ``[env.NAME]`` section already applied (if one was selected)."""

    name: str
    config_path: Path
    main: Path | None
    env_name: str | None = None
    base_name: str = ""
    compatibility_date: str | None = None
    compatibility_flags: tuple[str, ...] = ()
    account_id: str | None = None
    workers_dev: bool = True
    routes: tuple[Route, ...] = ()
    vars: tuple[tuple[str, object], ...] = ()
    secrets: tuple[tuple[str, str], ...] = ()
    placement: Placement | None = None
    services: tuple[ServiceBinding, ...] = ()
    kv_namespaces: tuple[KVNamespace, ...] = ()
    d1_databases: tuple[D1Database, ...] = ()
    r2_buckets: tuple[R2Bucket, ...] = ()
    analytics_engine_datasets: tuple[AnalyticsEngineDataset, ...] = ()
    ai: AIBinding | None = None
    durable_objects: tuple[DurableObjectBinding, ...] = ()
    migrations: tuple[Migration, ...] = ()
    queue_producers: tuple[QueueProducer, ...] = ()
    queue_consumers: tuple[QueueConsumer, ...] = ()
    workflows: tuple[Workflow, ...] = ()
    vectorize: tuple[VectorizeIndex, ...] = ()
    ratelimits: tuple[RateLimit, ...] = ()
    version_metadata: VersionMetadata | None = None
    hyperdrive: tuple[Hyperdrive, ...] = ()
    send_email: tuple[SendEmail, ...] = ()
    # (binding name, config key) of bindings whose kind wranglerpy does not emulate.
    unsupported: tuple[tuple[str, str], ...] = ()
    build: Build = field(default_factory=Build)
    dev: Dev = field(default_factory=Dev)
    triggers: Triggers = field(default_factory=Triggers)
    observability: Observability = field(default_factory=Observability)
    limits: Limits = field(default_factory=Limits)  # [limits] cpu_ms, subrequests
    assets: Assets | None = None
    warnings: tuple[str, ...] = ()

    @property
    def root(self) -> Path:
        """The folder the config lives in; relative paths resolve against it."""
        return self.config_path.parent

    def vars_dict(self) -> dict[str, object]:
        """``[vars]`` with secrets from ``.dev.vars`` laid over them."""
        merged: dict[str, object] = dict(self.vars)
        merged.update(dict(self.secrets))
        return merged

    def binding_names(self) -> list[str]:
        """Every name this worker's ``env`` will carry, in config order."""
        names: list[str] = [k for k, _ in self.vars]
        names += [k for k, _ in self.secrets if k not in names]
        names += [s.binding for s in self.services]
        names += [b.binding for b in self.kv_namespaces]
        names += [b.binding for b in self.d1_databases]
        names += [b.binding for b in self.r2_buckets]
        names += [b.binding for b in self.analytics_engine_datasets]
        names += [b.binding for b in self.queue_producers]
        names += [b.binding for b in self.workflows]
        if self.ai:
            names.append(self.ai.binding)
        names += [b.name for b in self.durable_objects]
        names += [b.binding for b in self.vectorize]
        names += [b.binding for b in self.ratelimits]
        names += [b.binding for b in self.hyperdrive]
        names += [b.binding for b in self.send_email]
        if self.version_metadata:
            names.append(self.version_metadata.binding)
        if self.assets and self.assets.binding:
            names.append(self.assets.binding)
        return names
