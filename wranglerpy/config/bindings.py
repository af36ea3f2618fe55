"""Parsers for the binding sections wranglerpy emulates, plus the list of those it does not."""

from __future__ import annotations

from typing import Any

from wranglerpy.config.fields import Reader, join
from wranglerpy.config.schema import (
    AIBinding,
    AnalyticsEngineDataset,
    D1Database,
    KVNamespace,
    R2Bucket,
    ServiceBinding,
)

# Emulated binding kinds: not inherited by [env.NAME] sections (wrangler's rule).
BINDING_KEYS = (
    "services",
    "kv_namespaces",
    "d1_databases",
    "r2_buckets",
    "analytics_engine_datasets",
    "ai",
    "durable_objects",
    "queues",
    "workflows",
    "vectorize",
    "ratelimits",
    "version_metadata",
    "hyperdrive",
    "send_email",
)

# Binding kinds wrangler knows but wranglerpy does not emulate: accepted with a warning.
UNSUPPORTED_BINDINGS = (
    "browser",
    "images",
    "mtls_certificates",
    "dispatch_namespaces",
    "pipelines",
    "secrets_store_secrets",
    "containers",
    "unsafe",
    "wasm_modules",
    "text_blobs",
    "data_blobs",
    "worker_loaders",
    "vpc_services",
    "logfwdr",
    "unsafe_hello_world",
    "site",
)

# "remote = true" asks wrangler dev to use the deployed resource; here everything is local.
_REMOTE = ("remote", "experimental_remote")


def _remote_note(r: Reader, table: dict[str, Any], where: str) -> None:
    if any(table.get(k) for k in _REMOTE):
        r.warn(f'"{where}.remote" is ignored: wranglerpy runs every binding locally')


def parse_services(r: Reader, t: dict[str, Any], path: str) -> tuple[ServiceBinding, ...]:
    out = []
    for where, item in r.table_list(t, "services", path):
        known = ("binding", "service", "environment", "entrypoint", "props", *_REMOTE)
        r.unknown_keys(item, known, where)
        _remote_note(r, item, where)
        out.append(
            ServiceBinding(
                binding=r.identifier(item, "binding", where),
                service=r.required_string(item, "service", where),
                environment=r.string(item, "environment", where),
                entrypoint=r.string(item, "entrypoint", where),
            )
        )
    return tuple(out)


def parse_kv(r: Reader, t: dict[str, Any], path: str) -> tuple[KVNamespace, ...]:
    out = []
    for where, item in r.table_list(t, "kv_namespaces", path):
        r.unknown_keys(item, ("binding", "id", "preview_id", *_REMOTE), where)
        _remote_note(r, item, where)
        binding = r.identifier(item, "binding", where)
        out.append(
            KVNamespace(
                binding=binding,
                id=r.string(item, "id", where) or binding,
                preview_id=r.string(item, "preview_id", where),
            )
        )
    return tuple(out)


def parse_d1(r: Reader, t: dict[str, Any], path: str) -> tuple[D1Database, ...]:
    out = []
    known = (
        "binding",
        "database_name",
        "database_id",
        "preview_database_id",
        "migrations_dir",
        "migrations_table",
        "database_internal_env",
        *_REMOTE,
    )
    for where, item in r.table_list(t, "d1_databases", path):
        r.unknown_keys(item, known, where)
        _remote_note(r, item, where)
        out.append(
            D1Database(
                binding=r.identifier(item, "binding", where),
                database_name=r.string(item, "database_name", where),
                database_id=r.string(item, "database_id", where),
                preview_database_id=r.string(item, "preview_database_id", where),
                migrations_dir=r.string(item, "migrations_dir", where) or "migrations",
                migrations_table=r.string(item, "migrations_table", where) or "d1_migrations",
            )
        )
    return tuple(out)


def parse_r2(r: Reader, t: dict[str, Any], path: str) -> tuple[R2Bucket, ...]:
    out = []
    known = ("binding", "bucket_name", "jurisdiction", "preview_bucket_name", *_REMOTE)
    for where, item in r.table_list(t, "r2_buckets", path):
        r.unknown_keys(item, known, where)
        _remote_note(r, item, where)
        binding = r.identifier(item, "binding", where)
        out.append(
            R2Bucket(
                binding=binding,
                bucket_name=r.string(item, "bucket_name", where) or binding,
                jurisdiction=r.string(item, "jurisdiction", where),
                preview_bucket_name=r.string(item, "preview_bucket_name", where),
            )
        )
    return tuple(out)


def parse_analytics(r: Reader, t: dict[str, Any], path: str) -> tuple[AnalyticsEngineDataset, ...]:
    out = []
    for where, item in r.table_list(t, "analytics_engine_datasets", path):
        r.unknown_keys(item, ("binding", "dataset"), where)
        binding = r.identifier(item, "binding", where)
        out.append(
            AnalyticsEngineDataset(
                binding=binding, dataset=r.string(item, "dataset", where) or binding
            )
        )
    return tuple(out)


def parse_ai(r: Reader, t: dict[str, Any], path: str) -> AIBinding | None:
    where = join(path, "ai")
    table = r.table(t, "ai", path)
    if table is None:
        return None
    r.unknown_keys(table, ("binding", "staging", "models", *_REMOTE), where)
    _remote_note(r, table, where)
    binding = r.identifier(table, "binding", where)
    models_where = join(where, "models")
    models = r.table(table, "models", where) or {}
    pairs = []
    for name, local in models.items():
        if not isinstance(local, str):
            raise r.expect(f'{models_where}."{name}"', "a local model name (string)", local)
        pairs.append((name, local))
    return AIBinding(binding=binding, models=tuple(pairs))


def check_unique_names(
    r: Reader,
    path: str,
    vars_: tuple[tuple[str, object], ...],
    named: list[tuple[str, str]],
) -> None:
    """Every binding name (and var) of one worker is distinct; ``named`` holds
    ``(key path, name)`` pairs of bindings."""
    seen: dict[str, str] = {join(join(path, "vars"), k): k for k, _ in vars_}
    by_name = {name: where for where, name in seen.items()}
    for where, name in named:
        if name in by_name:
            raise r.error(
                where,
                f'binding name "{name}" is already used by {by_name[name]}; '
                "every binding and var of a worker needs its own name",
            )
        by_name[name] = where
