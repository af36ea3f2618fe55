"""Every flag more than one command takes, written once as ``Annotated`` aliases so the flags
and their help read the same everywhere (state commands, dev, deploy, the edge's commands).

A command lists them as ``config: ConfigOption = None``; typer takes the flag names and help
from the alias and the default from the ``=``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

CONFIG_HELP = "Config file (default: wrangler.json/jsonc/toml here)."
ENV_HELP = "Use the config's env.NAME section."
PERSIST_HELP = "State folder (default: .wranglerpy/state beside the config)."

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help=CONFIG_HELP)]
EnvOption = Annotated[str | None, typer.Option("--env", "-e", help=ENV_HELP)]
PersistOption = Annotated[Path | None, typer.Option("--persist-to", help=PERSIST_HELP)]
LocalFlag = Annotated[bool, typer.Option("--local", help="Accepted for wrangler compatibility.")]
RemoteFlag = Annotated[bool, typer.Option("--remote", help="Not supported: all state is local.")]

# Commands that run several workers (dev, deploy): -c is repeatable.
ConfigsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file; repeat for more workers. Default: every wrangler*.toml/json/jsonc here.",
    ),
]
# Commands about one deployed or running worker, which the config only names.
WorkerConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config whose worker to use.")
]
WorkerEnvOption = Annotated[
    str | None, typer.Option("--env", "-e", help="Use the config's [env.NAME] worker.")
]
NameOption = Annotated[
    str | None,
    typer.Option("--name", help="Worker name, as wrangler's --name (default: the config's)."),
]
StateDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Edge state folder (default ~/.wranglerpy/edge or $WRANGLERPY_EDGE_DIR).",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]

# State backends (wranglerpy extension): where KV and R2 live, so several nodes share them.
KVBackendOption = Annotated[
    str | None,
    typer.Option(
        "--kv-backend",
        help="KV on Redis: redis://HOST:PORT/DB (default: $WRANGLERPY_KV_BACKEND, else local "
        "SQLite). wranglerpy extension.",
    ),
]
R2BackendOption = Annotated[
    str | None,
    typer.Option(
        "--r2-backend",
        help="R2 on an S3 server: s3://ACCESS_KEY:SECRET@HOST:PORT[?region=..&bucket_prefix=..] "
        "(s3s:// for https; default: $WRANGLERPY_R2_BACKEND, else local files). "
        "wranglerpy extension.",
    ),
]

# The local S3 and OpenAI APIs beside the workers (wranglerpy extension): dev and edge start.
ServicesFlag = Annotated[
    bool,
    typer.Option(
        "--services/--no-services",
        help="Serve the local S3 API (R2 buckets) and OpenAI-compatible API (models); "
        "wranglerpy extension.",
    ),
]
ServicesPortOption = Annotated[
    int | None,
    typer.Option(
        "--services-port",
        help="Their 127.0.0.1 port (default 8990 if free, else any; the edge: 8991).",
    ),
]
