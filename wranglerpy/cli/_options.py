"""The options every local-state command (``kv``, ``d1``, ``r2``, ``analytics``) takes, written
once as ``Annotated`` aliases so the flags and their help read the same everywhere.

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
