"""Load one worker's config (``wrangler.toml|json|jsonc``) into a frozen :class:`WorkerConfig`.

``[env.NAME]`` follows wrangler: *inheritable* keys (``main``, ``compatibility_date``,
``routes``, ``build``, ...) come from the top level unless the env sets them; ``name`` becomes
``<name>-<env>`` unless the env sets its own; ``vars`` and every binding list are *not*
inherited and must be repeated in the env (a warning says so when they are not).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from wranglerpy.config import bindings as b
from wranglerpy.config import durable_objects as do
from wranglerpy.config import queues as q
from wranglerpy.config import sections as s
from wranglerpy.config import small_bindings as sb
from wranglerpy.config import workflows as wf
from wranglerpy.config.compat_date import effective_date
from wranglerpy.config.dotenv import dev_vars_warnings, load_dev_vars
from wranglerpy.config.fields import Reader, join
from wranglerpy.config.limits import parse_limits
from wranglerpy.config.read import CONFIG_SUFFIXES, display_path, read_raw
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.config.vectorize import parse_vectorize
from wranglerpy.errors import ConfigError

__all__ = ["discover_configs", "load_dev_vars", "load_worker"]

# Read from the env section when it sets them, else from the top level.
INHERITABLE = (
    "name",
    "main",
    "compatibility_date",
    "compatibility_flags",
    "account_id",
    "workers_dev",
    "routes",
    "route",
    "triggers",
    "build",
    "placement",
    "observability",
    "limits",
    "assets",
    "migrations",
)
# Must be repeated in each env section; never inherited.
NOT_INHERITED = ("vars", *b.BINDING_KEYS)
# Only read from the top level.
TOP_LEVEL_ONLY = ("dev", "env")
# wrangler keys that only shape bundling, upload or deploy: accepted silently.
BUILD_KNOBS = (
    "$schema",
    "tail_consumers",
    "streaming_tail_consumers",
    "logpush",
    "minify",
    "node_compat",
    "upload_source_maps",
    "keep_vars",
    "send_metrics",
    "rules",
    "find_additional_modules",
    "base_dir",
    "preserve_file_names",
    "no_bundle",
    "usage_model",
    "legacy_env",
    "define",
    "alias",
    "jsx_factory",
    "jsx_fragment",
    "tsconfig",
    "python_modules",
    "first_party_worker",
    "keep_names",
    "compliance_region",
    "preview_urls",
    "pages_build_output_dir",
    "cloudchamber",
    "zone_id",
)
_KNOWN_TOP = {*INHERITABLE, *NOT_INHERITED, *TOP_LEVEL_ONLY, *BUILD_KNOBS, *b.UNSUPPORTED_BINDINGS}
_NAME = re.compile(r"^[a-z0-9_][a-z0-9_-]*$")
# workers.dev names are one DNS label (packages/workers-utils/src/worker-name.ts in
# cloudflare/workers-sdk: workerNameLengthLimit = 63).
MAX_NAME_LENGTH = 63
_ENV_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
DEFAULT_STEM = "wrangler"
# wrangler looks for wrangler.json, then wrangler.jsonc, then wrangler.toml.
_SUFFIX_PREFERENCE = {".json": 0, ".jsonc": 1, ".toml": 2}


def discover_configs(folder: Path) -> list[Path]:
    """Every ``wrangler*.toml``, ``wrangler*.json`` and ``wrangler*.jsonc`` in ``folder``.

    The default config (``wrangler.*``) comes first, the others follow sorted by name.
    When one stem exists in several formats (``wrangler.toml`` and ``wrangler.jsonc``), only
    one is kept, with wrangler's preference: ``.json``, then ``.jsonc``, then ``.toml``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"not a folder: {folder}")
    best: dict[str, Path] = {}
    for path in folder.iterdir():
        if path.suffix not in CONFIG_SUFFIXES or not path.name.startswith(DEFAULT_STEM):
            continue
        if not path.is_file():
            continue
        current = best.get(path.stem)
        if current is None or _SUFFIX_PREFERENCE[path.suffix] < _SUFFIX_PREFERENCE[current.suffix]:
            best[path.stem] = path
    return sorted(best.values(), key=lambda p: (p.stem != DEFAULT_STEM, p.name))


def load_worker(config_path: Path, env: str | None = None) -> WorkerConfig:
    """Parse, validate and resolve one config; select ``[env.<env>]`` when ``env`` is given."""
    path = Path(config_path).expanduser().absolute()
    raw = read_raw(path)
    r = Reader(display_path(path))
    root = path.parent
    r.unknown_keys(raw, _KNOWN_TOP, "top-level")
    _warn_unsupported(r, raw, "")

    base_name = r.string(raw, "name", "")
    if base_name is None:
        raise r.error("name", 'is required: every worker needs a "name"')
    _check_name(r, base_name, "name")
    envs = r.table(raw, "env", "") or {}
    for env_key, env_value in envs.items():
        if not isinstance(env_value, dict):
            raise r.expect(join("env", env_key), "a table", env_value)

    if env is not None and not _ENV_NAME.match(env):
        raise ConfigError(
            f'invalid environment name "{env}": use letters, digits, "-" and "_" only',
            file=r.file,
        )
    if env is None:
        src: dict[str, Any] = raw
        env_path = ""
        name = base_name
    else:
        if env not in envs:
            available = ", ".join(sorted(envs)) or "(none defined)"
            raise ConfigError(
                f'no environment "{env}" in this config; available environments: {available}',
                file=r.file,
            )
        src = envs[env]
        env_path = f"env.{env}"
        _check_env_section(r, raw, src, env_path)
        name = _env_name(r, raw, src, env_path, base_name, env)
        _check_length(r, name, join(env_path, "name") if "name" in src else "name")

    def pick(*keys: str) -> tuple[dict[str, Any], str]:
        """The table (env or top level) that supplies ``keys``, and its key path."""
        if env is None or any(k in src for k in keys):
            return src, env_path
        return raw, ""

    main_t, main_p = pick("main")
    main = r.string(main_t, "main", main_p)
    flags_t, flags_p = pick("compatibility_flags")
    account_t, account_p = pick("account_id")
    dev_t, dev_p = pick("workers_dev")
    routes_t, routes_p = pick("route", "routes")
    routes = s.parse_routes(r, routes_t, routes_p)
    config = WorkerConfig(
        name=name,
        config_path=path,
        main=(root / main).resolve() if main is not None else None,
        env_name=env,
        base_name=base_name,
        compatibility_date=_compat_date(r, *pick("compatibility_date")),
        compatibility_flags=r.string_list(flags_t, "compatibility_flags", flags_p),
        account_id=r.string(account_t, "account_id", account_p),
        # wrangler: workers.dev is on by default only for a worker without routes.
        workers_dev=r.boolean(dev_t, "workers_dev", dev_p, not routes),
        routes=routes,
        vars=s.parse_vars(r, src, env_path),
        placement=s.parse_placement(r, *pick("placement")),
        services=b.parse_services(r, src, env_path),
        kv_namespaces=b.parse_kv(r, src, env_path),
        d1_databases=b.parse_d1(r, src, env_path),
        r2_buckets=b.parse_r2(r, src, env_path),
        analytics_engine_datasets=b.parse_analytics(r, src, env_path),
        ai=b.parse_ai(r, src, env_path),
        durable_objects=do.parse_durable_objects(r, src, env_path),
        migrations=do.parse_migrations(r, *pick("migrations")),
        queue_producers=q.parse_producers(r, src, env_path),
        queue_consumers=q.parse_consumers(r, src, env_path),
        workflows=wf.parse_workflows(r, src, env_path),
        vectorize=parse_vectorize(r, src, env_path),
        ratelimits=sb.parse_ratelimits(r, src, env_path),
        version_metadata=sb.parse_version_metadata(r, src, env_path),
        hyperdrive=sb.parse_hyperdrive(r, src, env_path),
        send_email=sb.parse_send_email(r, src, env_path),
        unsupported=sb.unsupported_bindings(src, b.UNSUPPORTED_BINDINGS),
        build=s.parse_build(r, *pick("build"), root),
        dev=s.parse_dev(r, raw, ""),
        triggers=s.parse_triggers(r, *pick("triggers")),
        observability=s.parse_observability(r, *pick("observability")),
        limits=parse_limits(r, *pick("limits")),
        assets=s.parse_assets(r, *pick("assets"), root),
        secrets=tuple(load_dev_vars(root, env).items()),
    )
    _check_binding_names(r, config, env_path, pick("assets")[1])
    if config.compatibility_date is None:
        today = effective_date(None)  # what the runtime and workflows then use
        r.warn(
            f"No compatibility_date was specified: using today's date, {today}, as wrangler "
            f'does. Add compatibility_date = "{today}" to {r.file} (it decides how handlers '
            "are dispatched, and Cloudflare requires it to deploy)."
        )
    for warning in dev_vars_warnings(root, env):
        r.warn(warning)
    do.check_bound_classes(r, config.durable_objects, config.migrations, env_path)
    producers = q.with_compatibility(
        config.queue_producers, config.compatibility_flags, config.compatibility_date
    )
    return replace(config, queue_producers=producers, warnings=tuple(r.warnings))


def _check_name(r: Reader, name: str, where: str) -> None:
    if not _NAME.match(name):
        shown = name if len(name) <= 80 else name[:77] + "..."
        raise r.error(
            where,
            f'invalid worker name "{shown}": use lowercase letters, digits, "-" and "_" only',
        )
    _check_length(r, name, where)


def _check_length(r: Reader, name: str, where: str) -> None:
    if len(name) > MAX_NAME_LENGTH:
        raise r.error(
            where,
            f'worker name "{name[:20]}..." is {len(name)} characters long; Cloudflare allows '
            f"at most {MAX_NAME_LENGTH}",
        )


def _warn_unsupported(r: Reader, table: dict[str, Any], path: str) -> None:
    for key in b.UNSUPPORTED_BINDINGS:
        if key == "unsafe" and not sb.unsupported_bindings(table, ("unsafe",)):
            continue  # only rate limiters, which are emulated
        if key in table:
            r.warn(f'"{join(path, key)}" is not supported locally by wranglerpy; it is ignored')


def _check_env_section(r: Reader, raw: dict[str, Any], env_t: dict[str, Any], path: str) -> None:
    """Warnings for an env section: unknown keys, top-level-only keys, missing repeats."""
    known = {*INHERITABLE, *NOT_INHERITED, *BUILD_KNOBS, *b.UNSUPPORTED_BINDINGS}
    r.unknown_keys({k: v for k, v in env_t.items() if k not in TOP_LEVEL_ONLY}, known, path)
    for key in TOP_LEVEL_ONLY:
        if key in env_t:
            r.warn(f'"{join(path, key)}" is ignored: "{key}" is only read from the top level')
    _warn_unsupported(r, env_t, path)
    for key in NOT_INHERITED:
        if key in raw and key not in env_t:
            r.warn(
                f'"{key}" exists at the top level, but not on "{path}". This is not what you '
                f'probably want, since "{key}" is not inherited by environments. '
                f'Please add "{key}" to "{path}".'
            )


def _env_name(
    r: Reader, raw: dict[str, Any], env_t: dict[str, Any], path: str, base: str, env: str
) -> str:
    own = r.string(env_t, "name", path)
    if own is not None:
        _check_name(r, own, join(path, "name"))
        return own
    # legacy_env = false means "service environments": one worker name for every env.
    if raw.get("legacy_env") is False:
        return base
    return f"{base}-{env}"


def _compat_date(r: Reader, table: dict[str, Any], path: str) -> str | None:
    if "compatibility_date" not in table:
        return None
    value = table["compatibility_date"]
    where = join(path, "compatibility_date")
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        # TOML reads an unquoted 2025-01-01 as a date
        return _not_future(r, where, value.isoformat())
    if not isinstance(value, str):
        raise r.expect(where, 'a date string "YYYY-MM-DD"', value)
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        raise r.error(where, f'expected a date "YYYY-MM-DD", got "{value}"') from None
    if len(value) != 10:
        raise r.error(where, f'expected a date "YYYY-MM-DD", got "{value}"')
    return _not_future(r, where, value)


def _not_future(r: Reader, where: str, value: str) -> str:
    # Miniflare refuses it (packages/miniflare/src/plugins/core/index.ts in workers-sdk,
    # ERR_FUTURE_COMPATIBILITY_DATE); the date is compared with today in UTC.
    if value > effective_date(None):
        raise r.error(where, f'Compatibility date "{value}" is in the future and unsupported')
    return value


def _check_binding_names(r: Reader, c: WorkerConfig, path: str, assets_path: str) -> None:
    """Binding names (and vars) are distinct within one worker; secrets may shadow vars."""
    named: list[tuple[str, str]] = []
    lists: list[tuple[str, tuple[Any, ...]]] = [
        ("services", c.services),
        ("kv_namespaces", c.kv_namespaces),
        ("d1_databases", c.d1_databases),
        ("r2_buckets", c.r2_buckets),
        ("analytics_engine_datasets", c.analytics_engine_datasets),
        ("workflows", c.workflows),
        ("vectorize", c.vectorize),
        ("ratelimits", c.ratelimits),
        ("hyperdrive", c.hyperdrive),
        ("send_email", c.send_email),
    ]
    for i, producer in enumerate(c.queue_producers):
        named.append(
            (join(join(join(path, "queues"), "producers"), i) + ".binding", producer.binding)
        )
    for key, items in lists:
        for i, item in enumerate(items):
            named.append((join(join(join(path, key), i), "binding"), item.binding))
    if c.ai:
        named.append((join(join(path, "ai"), "binding"), c.ai.binding))
    for i, d in enumerate(c.durable_objects):
        named.append((join(join(join(path, "durable_objects"), "bindings"), i), d.name))
    if c.version_metadata:
        named.append((join(join(path, "version_metadata"), "binding"), c.version_metadata.binding))
    if c.assets and c.assets.binding:
        named.append((join(join(assets_path, "assets"), "binding"), c.assets.binding))
    b.check_unique_names(r, path, c.vars, named)
    binding_names = {name for _, name in named}
    for key, _ in c.secrets:
        if key in binding_names:
            r.warn(
                f'secret "{key}" from .dev.vars has the same name as a binding; the binding wins'
            )
