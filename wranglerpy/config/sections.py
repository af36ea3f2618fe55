"""One parser per config section (``[placement]``, ``[build]``, ``routes``, ...).

Each takes the worker-level table (the top level or one ``[env.NAME]``) and the key path of
that table (``""`` or ``env.NAME``) and returns a frozen schema object.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from wranglerpy.config.crons import check_cron
from wranglerpy.config.fields import Reader, join
from wranglerpy.config.schema import (
    Assets,
    Build,
    Dev,
    Observability,
    Placement,
    Route,
    Triggers,
)

# Keys wrangler accepts inside these tables that change nothing locally: no warning.
_DEV_KEYS = (
    "port",
    "ip",
    "local_protocol",
    "upstream_protocol",
    "host",
    "inspector_port",
    "enable_containers",
    "container_engine",
    "generate_types",
    "s3_access_key_id",
    "s3_secret_access_key",
)
_NOT_FOUND = ("none", "404-page", "single-page-application")
_HTML = ("auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none")


def plain_value(value: Any) -> Any:
    """TOML dates/times become ISO strings, so vars are JSON values like wrangler's."""
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value


# How deep a JSON var may nest. The var travels to the worker as JSON and back into Python
# objects; far below Python's recursion limit, far above any real config.
MAX_VAR_DEPTH = 64


def _depth_over(value: Any, limit: int) -> bool:
    """True when ``value`` nests deeper than ``limit`` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def parse_vars(r: Reader, t: dict[str, Any], path: str) -> tuple[tuple[str, object], ...]:
    table = r.table(t, "vars", path)
    if table is None:
        return ()
    for key, value in table.items():
        if key.startswith("__") and key.endswith("__"):
            raise r.error(
                join(join(path, "vars"), key),
                f'var name "{key}" cannot be used: names that start and end with "__" are '
                "Python's own attributes of env, so worker code could never read it",
            )
        if _depth_over(value, MAX_VAR_DEPTH):
            raise r.error(
                join(join(path, "vars"), key),
                f"the value nests more than {MAX_VAR_DEPTH} levels deep; flatten it",
            )
    return tuple((k, plain_value(v)) for k, v in table.items())


def _route(r: Reader, value: Any, where: str) -> Route:
    if isinstance(value, str):
        return Route(pattern=value)
    if not isinstance(value, dict):
        raise r.expect(where, "a route pattern string or a table", value)
    r.unknown_keys(value, ("pattern", "zone_name", "zone_id", "custom_domain"), where)
    route = Route(
        pattern=r.required_string(value, "pattern", where),
        zone_name=r.string(value, "zone_name", where),
        zone_id=r.string(value, "zone_id", where),
        custom_domain=r.boolean(value, "custom_domain", where, False),
    )
    if route.zone_name and route.zone_id:
        raise r.error(where, 'set either "zone_name" or "zone_id", not both')
    return route


def parse_routes(r: Reader, t: dict[str, Any], path: str) -> tuple[Route, ...]:
    if "route" in t and "routes" in t:
        raise r.error(path or None, 'expected exactly one of "route" and "routes", got both')
    if "route" in t:
        return (_route(r, t["route"], join(path, "route")),)
    if "routes" not in t:
        return ()
    value = t["routes"]
    where = join(path, "routes")
    if not isinstance(value, list):
        raise r.expect(where, "a list of routes", value)
    return tuple(_route(r, item, join(where, i)) for i, item in enumerate(value))


def parse_placement(r: Reader, t: dict[str, Any], path: str) -> Placement | None:
    where = join(path, "placement")
    table = r.table(t, "placement", path)
    if table is None:
        return None
    r.unknown_keys(table, ("mode", "hint", "region", "host", "hostname"), where)
    mode = r.choice(table, "mode", where, ("off", "smart"))
    hint = r.string(table, "hint", where)
    targets = {k: r.string(table, k, where) for k in ("region", "host", "hostname")}
    given = [k for k, v in targets.items() if v is not None]
    if hint is not None and given:
        raise r.error(where, f'"hint" cannot be combined with "{given[0]}"')
    if len(given) > 1:
        raise r.error(where, f'set only one of "region", "host", "hostname"; got {given}')
    if mode is None and hint is None and not given:
        raise r.error(where, 'expected "mode", "hint", "region", "host" or "hostname"')
    return Placement(
        mode=mode,  # type: ignore[arg-type]  # checked by choice()
        hint=hint,
        region=targets["region"],
        host=targets["host"],
        hostname=targets["hostname"],
    )


def _resolve(root: Path, value: str) -> Path:
    return (root / Path(value).expanduser()).resolve()


def parse_build(r: Reader, t: dict[str, Any], path: str, root: Path) -> Build:
    where = join(path, "build")
    table = r.table(t, "build", path)
    if table is None:
        return Build()
    r.unknown_keys(table, ("command", "cwd", "watch_dir"), where)
    command = r.string(table, "command", where)
    cwd = r.string(table, "cwd", where)
    watch: tuple[str, ...]
    raw_watch = table.get("watch_dir")
    if isinstance(raw_watch, str):
        watch = (raw_watch,)
    elif raw_watch is None:
        watch = ()
    elif isinstance(raw_watch, list):
        watch = r.string_list(table, "watch_dir", where)
    else:
        raise r.expect(join(where, "watch_dir"), "a string or a list of strings", raw_watch)
    build = Build(
        command=command,
        cwd=_resolve(root, cwd) if cwd is not None else None,
        watch_dir=tuple(_resolve(root, w) for w in watch),
    )
    if build.cwd is not None and not build.cwd.is_dir():
        raise r.error(join(where, "cwd"), f"the folder {build.cwd} does not exist")
    for i, folder in enumerate(build.watch_dir):
        key = (
            join(where, "watch_dir")
            if isinstance(raw_watch, str)
            else join(join(where, "watch_dir"), i)
        )
        if folder == Path(folder.anchor) or folder == Path.home():
            raise r.error(
                key,
                f"refusing to watch {folder}: it would watch every file under it; "
                "name the folder of your sources",
            )
    return build


def parse_dev(r: Reader, t: dict[str, Any], path: str) -> Dev:
    where = join(path, "dev")
    table = r.table(t, "dev", path)
    if table is None:
        return Dev()
    r.unknown_keys(table, _DEV_KEYS, where)
    r.port(table, "inspector_port", where)  # validated only: there is no inspector
    protocol = r.choice(table, "local_protocol", where, ("http", "https"))
    key_id = r.string(table, "s3_access_key_id", where)
    secret = r.string(table, "s3_secret_access_key", where)
    if (key_id is None) != (secret is None):
        missing = "s3_secret_access_key" if secret is None else "s3_access_key_id"
        raise r.error(join(where, missing), "is required when the other S3 key is set")
    return Dev(
        port=r.port(table, "port", where),
        ip=r.string(table, "ip", where),
        local_protocol=protocol or "http",
        s3_access_key_id=key_id,
        s3_secret_access_key=secret,
    )


def parse_triggers(r: Reader, t: dict[str, Any], path: str) -> Triggers:
    where = join(path, "triggers")
    table = r.table(t, "triggers", path)
    if table is None:
        return Triggers()
    r.unknown_keys(table, ("crons",), where)
    crons = r.string_list(table, "crons", where)
    for i, expression in enumerate(crons):
        check_cron(r, expression, join(join(where, "crons"), i))
    return Triggers(crons=crons)


def parse_observability(r: Reader, t: dict[str, Any], path: str) -> Observability:
    where = join(path, "observability")
    table = r.table(t, "observability", path)
    if table is None:
        return Observability()
    r.unknown_keys(table, ("enabled", "head_sampling_rate", "logs", "traces"), where)
    rate = r.number(table, "head_sampling_rate", where)
    if rate is not None and not 0.0 <= rate <= 1.0:
        raise r.error(join(where, "head_sampling_rate"), f"must be between 0 and 1, got {rate}")
    return Observability(
        enabled=r.boolean(table, "enabled", where, False),
        head_sampling_rate=1.0 if rate is None else rate,
    )


def parse_assets(r: Reader, t: dict[str, Any], path: str, root: Path) -> Assets | None:
    where = join(path, "assets")
    table = r.table(t, "assets", path)
    if table is None:
        return None
    known = ("directory", "binding", "not_found_handling", "html_handling", "run_worker_first")
    r.unknown_keys(table, known, where)
    directory = r.required_string(table, "directory", where)
    if not _resolve(root, directory).is_dir():
        # wrangler's words (packages/wrangler/src/assets.ts), on one line.
        raise r.error(
            join(where, "directory"),
            'The directory specified by the "assets.directory" field in your configuration '
            f"file does not exist: {_resolve(root, directory)}",
        )
    binding = r.identifier(table, "binding", where) if "binding" in table else None
    run_worker_first: bool | tuple[str, ...]
    if isinstance(table.get("run_worker_first"), list):
        # Route patterns ("/api/*", "!/api/docs/*"): the worker runs first where they match.
        run_worker_first = r.string_list(table, "run_worker_first", where)
        for pattern in run_worker_first:
            if not pattern.lstrip("!").startswith("/"):
                raise r.error(
                    join(where, "run_worker_first"),
                    f'route pattern "{pattern}" must start with "/" (or "!/" to exclude)',
                )
    else:
        run_worker_first = r.boolean(table, "run_worker_first", where, False)
    return Assets(
        directory=_resolve(root, directory),
        binding=binding,
        not_found_handling=r.choice(table, "not_found_handling", where, _NOT_FOUND) or "none",
        html_handling=r.choice(table, "html_handling", where, _HTML) or "auto-trailing-slash",
        run_worker_first=run_worker_first,
    )
