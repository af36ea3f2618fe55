"""``wranglerpy types``: write ``js`` type stubs for ``env`` from the wrangler configs here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wranglerpy.cli.common import handle_errors
from wranglerpy.errors import ConfigError


@handle_errors
def types(
    outdir: Annotated[
        Path,
        typer.Argument(help='Stub folder (pyright\'s default; for mypy: mypy_path = "typings").'),
    ] = Path("typings"),
    config: Annotated[
        list[Path] | None,
        typer.Option("--config", "-c", help="Config(s) to read (default: every wrangler* here)."),
    ] = None,
    env: Annotated[str | None, typer.Option("--env", "-e", help="Use [env.NAME].")] = None,
) -> None:
    """Write OUTDIR/js/__init__.pyi: `Env` with a typed attribute per var and binding, as
    pywrangler's `types` does, so editors and mypy complete `self.env.KV.get`."""
    from wranglerpy.cli.env_types import write_stubs
    from wranglerpy.config.load import discover_configs, load_worker

    paths = config or discover_configs(Path.cwd())
    if not paths:
        raise ConfigError(f"No wrangler.toml/json/jsonc in {Path.cwd()}; pass -c.")
    workers = [load_worker(path, env) for path in paths]
    written = write_stubs(workers, outdir)
    typer.echo(f"✨ Wrote {written} (Env of {', '.join(w.name for w in workers)}).")
    typer.echo(
        "Annotate with `from js import Env` under `if TYPE_CHECKING:`; Cloudflare's SDK "
        "(workers-runtime-sdk) already types `self.env` as `js.Env`."
    )
