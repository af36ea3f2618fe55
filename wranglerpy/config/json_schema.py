"""A JSON Schema for wrangler.toml / wrangler.json(c) as wranglerpy reads them, for editors.

``build()`` writes it from the loader's own key lists (the keys wrangler accepts that only
shape bundling or deploys, the binding kinds wranglerpy does not emulate), so a key the loader
learns shows up here; tests check that every key the loader accepts is described and that the
shipped ``wrangler.schema.json`` equals ``build()``. Regenerate it with
``python -m wranglerpy.config.json_schema``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wranglerpy.config import bindings as b
from wranglerpy.config.load import BUILD_KNOBS

SCHEMA_PATH = Path(__file__).with_name("wrangler.schema.json")

Schema = dict[str, Any]


def _string(description: str = "", **extra: Any) -> Schema:
    out: Schema = {"type": "string", **extra}
    if description:
        out["description"] = description
    return out


def _object(properties: dict[str, Schema], required: tuple[str, ...] = (), **extra: Any) -> Schema:
    out: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    out.update(extra)
    return out


def _list_of(item: Schema, description: str) -> Schema:
    return {"type": "array", "items": item, "description": description}


BINDING = _string("The name of the binding in `env`.", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
REMOTE = {
    "remote": {"type": "boolean", "description": "Ignored: wranglerpy keeps everything local."},
    "experimental_remote": {"type": "boolean", "description": "Ignored (remote bindings)."},
}
PORT = {"type": "integer", "minimum": 0, "maximum": 65535}
ROUTE = {
    "anyOf": [
        _string("A route pattern, e.g. `example.com/api/*`."),
        _object(
            {
                "pattern": _string(),
                "zone_name": _string(),
                "zone_id": _string(),
                "custom_domain": {"type": "boolean"},
            },
            ("pattern",),
        ),
    ]
}


def _bindings() -> dict[str, Schema]:
    return {
        "vars": {
            "type": "object",
            "description": "Environment variables (`env.NAME`); strings or any JSON value.",
        },
        "services": _list_of(
            _object(
                {
                    "binding": BINDING,
                    "service": _string("The worker to reach."),
                    "environment": _string(),
                    "entrypoint": _string("A named WorkerEntrypoint class of the target."),
                    "props": {"type": "object"},
                    **REMOTE,
                },
                ("binding", "service"),
            ),
            "Service bindings to other workers.",
        ),
        "kv_namespaces": _list_of(
            _object(
                {"binding": BINDING, "id": _string(), "preview_id": _string(), **REMOTE},
                ("binding",),
            ),
            "Workers KV namespaces (locally keyed by `id`, default: the binding name).",
        ),
        "d1_databases": _list_of(
            _object(
                {
                    "binding": BINDING,
                    "database_name": _string(),
                    "database_id": _string(),
                    "preview_database_id": _string(),
                    "migrations_dir": _string("Default `migrations`."),
                    "migrations_table": _string("Default `d1_migrations`."),
                    "database_internal_env": _string(),
                    **REMOTE,
                },
                ("binding",),
            ),
            "D1 databases.",
        ),
        "r2_buckets": _list_of(
            _object(
                {
                    "binding": BINDING,
                    "bucket_name": _string("Default: the binding name."),
                    "jurisdiction": _string(),
                    "preview_bucket_name": _string(),
                    **REMOTE,
                },
                ("binding",),
            ),
            "R2 buckets (also served by the local S3 API).",
        ),
        "analytics_engine_datasets": _list_of(
            _object({"binding": BINDING, "dataset": _string()}, ("binding",)),
            "Workers Analytics Engine datasets.",
        ),
        "queues": _object(
            {
                "producers": _list_of(
                    _object(
                        {
                            "binding": BINDING,
                            "queue": _string("The queue's name."),
                            "delivery_delay": {"type": "integer", "minimum": 0, "maximum": 86400},
                            **REMOTE,
                        },
                        ("binding", "queue"),
                    ),
                    "Queue producers: `env.<binding>.send(...)`.",
                ),
                "consumers": _list_of(
                    _object(
                        {
                            "queue": _string("The queue this worker's `queue` handler receives."),
                            "type": {"enum": ["worker", "http_pull"]},
                            "max_batch_size": {"type": "integer", "minimum": 1, "maximum": 100},
                            "max_batch_timeout": {"type": "number", "minimum": 0, "maximum": 60},
                            "max_retries": {"type": "integer", "minimum": 0, "maximum": 100},
                            "dead_letter_queue": _string(),
                            "max_concurrency": {"type": "integer", "minimum": 1},
                            "retry_delay": {"type": "integer", "minimum": 0, "maximum": 86400},
                            "visibility_timeout_ms": {"type": "integer"},
                        },
                        ("queue",),
                    ),
                    "Queue consumers, run in this worker's process.",
                ),
            },
            description="Cloudflare Queues, run locally.",
        ),
        "workflows": _list_of(
            _object(
                {
                    "name": _string(
                        "The workflow's name.", pattern=r"^[a-zA-Z0-9_][a-zA-Z0-9-_]*$"
                    ),
                    "binding": BINDING,
                    "class_name": _string("The WorkflowEntrypoint class."),
                    "script_name": _string("The worker defining the class (default: this one)."),
                    "limits": {"type": "object", "properties": {"steps": {"type": "integer"}}},
                    **REMOTE,
                },
                ("name", "binding", "class_name"),
            ),
            "Workflows, run locally by the worker that defines the class.",
        ),
        "ai": _object(
            {
                "binding": BINDING,
                "staging": {"type": "boolean"},
                "models": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "wranglerpy: Cloudflare model name -> local model name.",
                },
                **REMOTE,
            },
            ("binding",),
            description="Workers AI, run locally.",
        ),
        "vectorize": _list_of(
            _object(
                {"binding": BINDING, "index_name": _string(), **REMOTE}, ("binding", "index_name")
            ),
            "Vectorize indexes (create them with `wranglerpy vectorize create`).",
        ),
        "ratelimits": _list_of(RATELIMIT, "Rate limiters: `env.NAME.limit({key})`."),
        "version_metadata": _object(
            {"binding": BINDING}, ("binding",), description="The running version's id, tag, time."
        ),
        "hyperdrive": _list_of(
            _object(
                {
                    "binding": BINDING,
                    "id": _string(),
                    "localConnectionString": _string(
                        "postgres:// or mysql:// URL of the local database "
                        "($CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_<BINDING> wins)."
                    ),
                },
                ("binding", "id"),
            ),
            "Hyperdrive configs, pointing at a local database.",
        ),
        "send_email": _list_of(
            _object(
                {
                    "name": BINDING,
                    "destination_address": _string(),
                    "allowed_destination_addresses": _list_of(_string(), "Allowed recipients."),
                    "allowed_sender_addresses": _list_of(_string(), "Allowed senders."),
                    **REMOTE,
                },
                ("name",),
            ),
            "Outgoing email, recorded locally (`wranglerpy email list`).",
        ),
        "durable_objects": _object(
            {
                "bindings": _list_of(
                    _object(
                        {
                            "name": BINDING,
                            "class_name": _string("The Durable Object class."),
                            "script_name": _string(
                                "The worker that defines it (default: this one)."
                            ),
                            "environment": _string(),
                        },
                        ("name", "class_name"),
                    ),
                    "Durable Object namespaces (`env.NAME`).",
                )
            },
            description="Durable Objects.",
        ),
        "migrations": _list_of(
            _object(
                {
                    "tag": _string("Applied once, in order; remembered under the persist dir."),
                    "new_classes": _list_of(_string(), "Class names."),
                    "new_sqlite_classes": _list_of(_string(), "Class names."),
                    "deleted_classes": _list_of(_string(), "Class names."),
                    "renamed_classes": _list_of(
                        _object({"from": _string(), "to": _string()}, ("from", "to")),
                        "Renames.",
                    ),
                    "transferred_classes": _list_of(
                        _object(
                            {"from": _string(), "from_script": _string(), "to": _string()},
                            ("from", "from_script", "to"),
                        ),
                        "Classes moved from another worker.",
                    ),
                },
                ("tag",),
            ),
            "Durable Object class migrations.",
        ),
    }


def _keys_object(keys: tuple[str, ...], required: tuple[str, ...] = ()) -> Schema:
    """An object with exactly the keys the loader accepts (their types are the loader's job)."""
    props: dict[str, Schema] = {k: BINDING if k == "binding" else {} for k in keys}
    return _object(props, required)


def _more_bindings() -> dict[str, Schema]:
    """The binding kinds other modules parse, shaped from their parsers' own key lists."""
    from wranglerpy.config import durable_objects, queues, workflows

    return {
        "durable_objects": _object(
            {
                "bindings": _list_of(
                    _keys_object(
                        ("name", "class_name", "script_name", "environment"),
                        ("name", "class_name"),
                    ),
                    "Durable Object namespaces.",
                )
            }
        ),
        "queues": _object(
            {
                "producers": _list_of(_keys_object(queues._PRODUCER_KEYS), "Queue producers."),
                "consumers": _list_of(_keys_object(queues._CONSUMER_KEYS), "Queue consumers."),
            }
        ),
        "workflows": _list_of(_keys_object(workflows._KEYS), "Workflows."),
        "migrations": _list_of(
            _keys_object(durable_objects._MIGRATION_KEYS, ("tag",)), "Durable Object migrations."
        ),
    }


def _known_top() -> set[str]:
    from wranglerpy.config.load import _KNOWN_TOP

    return set(_KNOWN_TOP)


RATELIMIT = _object(
    {
        "name": BINDING,
        "namespace_id": _string(),
        "simple": _object(
            {"limit": {"type": "integer", "minimum": 0}, "period": {"enum": [10, 60]}},
            ("limit", "period"),
        ),
    },
    ("name", "namespace_id", "simple"),
)


def _worker_properties() -> dict[str, Schema]:
    """What both the top level and each ``[env.NAME]`` may set."""
    props: dict[str, Schema] = {
        "name": _string("The worker's name.", pattern=r"^[a-z0-9_][a-z0-9_-]*$"),
        "main": _string("The entry module, e.g. `src/entry.py`."),
        "compatibility_date": _string(pattern=r"^\d{4}-\d{2}-\d{2}$"),
        "compatibility_flags": _list_of(_string(), "e.g. `python_workers`."),
        "account_id": _string(),
        "workers_dev": {"type": "boolean"},
        "routes": _list_of(ROUTE, "Routes the worker serves on the local edge."),
        "route": ROUTE,
        "triggers": _object({"crons": _list_of(_string(), "Cron expressions.")}),
        "build": _object(
            {
                "command": _string("Run before start and on every reload."),
                "cwd": _string(),
                "watch_dir": {"anyOf": [_string(), _list_of(_string(), "Folders to watch.")]},
            }
        ),
        "placement": _object(
            {
                "mode": {"enum": ["off", "smart"]},
                "hint": _string(),
                "region": _string(),
                "host": _string(),
                "hostname": _string(),
            }
        ),
        "observability": _object(
            {
                "enabled": {"type": "boolean"},
                "head_sampling_rate": {"type": "number", "minimum": 0, "maximum": 1},
                "logs": {"type": "object"},
                "traces": {"type": "object"},
            }
        ),
        "limits": _object(
            {
                "cpu_ms": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 300_000,
                    "description": "CPU time per invocation in ms (default 30000).",
                },
                "subrequests": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 10_000_000,
                    "description": "Subrequests per invocation (default 10000).",
                },
            }
        ),
        "assets": _object(
            {
                "directory": _string("The static folder."),
                "binding": BINDING,
                "not_found_handling": {"enum": ["none", "404-page", "single-page-application"]},
                "html_handling": {
                    "enum": [
                        "auto-trailing-slash",
                        "force-trailing-slash",
                        "drop-trailing-slash",
                        "none",
                    ]
                },
                "run_worker_first": {"type": "boolean"},
            },
            ("directory",),
        ),
        **_bindings(),
    }
    more = _more_bindings()
    for key in (*b.BINDING_KEYS, *_known_top()):
        if key in more or key in b.BINDING_KEYS:
            props.setdefault(key, more.get(key, {"description": "A binding; see wrangler's docs."}))
    for key in BUILD_KNOBS:
        props.setdefault(key, {"description": "Accepted; shapes bundling or deploys only."})
    for key in b.UNSUPPORTED_BINDINGS:
        props[key] = {"description": "Accepted with a warning: not emulated by wranglerpy."}
    for key in sorted(_known_top() - set(props) - {"dev", "env"}):
        props[key] = {"description": "Read by wranglerpy (no detailed schema yet)."}
    return props


def build() -> Schema:
    # Sections are written once under "definitions" and referenced from the top level and from
    # every [env.NAME], as editors resolve them.
    definitions: dict[str, Schema] = {}
    worker: dict[str, Schema] = {}
    for key, schema in _worker_properties().items():
        if set(schema) <= {"description"}:
            worker[key] = schema
        else:
            definitions[key] = schema
            worker[key] = {"$ref": f"#/definitions/{key}"}
    dev = _object(
        {
            "port": PORT,
            "ip": _string(),
            "local_protocol": {"enum": ["http", "https"]},
            "upstream_protocol": _string(),
            "host": _string(),
            "inspector_port": PORT,
            "enable_containers": {"type": "boolean"},
            "container_engine": _string(),
            "generate_types": {"type": "boolean"},
            "s3_access_key_id": _string("wranglerpy: access key id of the local S3 API."),
            "s3_secret_access_key": _string("wranglerpy: its secret (set both or neither)."),
        },
        description="`wranglerpy dev` settings (top level only).",
    )
    env_section = {
        "type": "object",
        "properties": {k: v for k, v in worker.items() if k != "$schema"},
        "additionalProperties": False,
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://github.com/wranglerpy/wranglerpy/wrangler.schema.json",
        "title": "wrangler config (as wranglerpy reads it)",
        "type": "object",
        "properties": {
            **worker,
            "$schema": _string("This schema's path."),
            "dev": dev,
            "env": {
                "type": "object",
                "additionalProperties": env_section,
                "description": "Named environments (`--env NAME`).",
            },
        },
        "additionalProperties": False,
        "definitions": definitions,
    }


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(render())
    print(SCHEMA_PATH)
