"""``wranglerpy schema``: where the JSON Schema for wrangler configs is (for editors)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from wranglerpy.cli.common import handle_errors


def schema_ref(project: Path) -> str:
    """The schema's path as a config in ``project`` names it in ``$schema`` (relative, so
    a project with its venv inside can move)."""
    from wranglerpy.config.json_schema import SCHEMA_PATH

    return Path(os.path.relpath(SCHEMA_PATH, project.resolve())).as_posix()


@handle_errors
def schema(
    show: bool = typer.Option(False, "--print", help="Print the schema itself, not its path."),
    relative_to: Path = typer.Option(
        None, "--relative-to", help="Print the path relative to this folder (for $schema)."
    ),
) -> None:
    """Print the path of the JSON Schema for wrangler.json/jsonc/toml (use it as "$schema")."""
    from wranglerpy.config.json_schema import SCHEMA_PATH

    if show:
        typer.echo(SCHEMA_PATH.read_text(), nl=False)
    elif relative_to is not None:
        typer.echo(schema_ref(relative_to))
    else:
        typer.echo(str(SCHEMA_PATH))
