"""``wranglerpy init DIR --template NAME``: a new project from one of the bundled templates."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import typer

from wranglerpy.cli.common import handle_errors
from wranglerpy.errors import UsageError

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".wranglerpy", ".pytest_cache")


def available_templates() -> list[str]:
    if not TEMPLATES_DIR.is_dir():
        return []
    return sorted(p.name for p in TEMPLATES_DIR.iterdir() if p.is_dir())


def create_project(directory: Path, template: str, name: str | None = None) -> list[Path]:
    """Copy ``template`` into ``directory`` (which must be new or empty), naming the worker(s)."""
    source = TEMPLATES_DIR / template
    if not source.is_dir():
        raise UsageError(
            f"Unknown template {template!r}. Available: {', '.join(available_templates())}"
        )
    if directory.exists() and any(directory.iterdir()):
        raise UsageError(f"{directory} already exists and is not empty; pick a new folder.")
    name = name or directory.resolve().name
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", name):
        raise UsageError(
            f"Worker name {name!r} is not valid: use lower-case letters, digits and dashes "
            "(as Cloudflare requires); pass --name to choose one."
        )
    shutil.copytree(source, directory, ignore=SKIP, dirs_exist_ok=True)
    from wranglerpy.cli.schema import schema_ref

    fills = {"{{name}}": name, "{{schema}}": schema_ref(directory)}
    written = []
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            text = path.read_text()
            if any(mark in text for mark in fills):
                for mark, value in fills.items():
                    text = text.replace(mark, value)
                path.write_text(text)
            written.append(path)
    return written


@handle_errors
def init(
    directory: Path = typer.Argument(..., help="Folder to create."),
    template: str = typer.Option("hello", "--template", "-t", help="hello | service-bindings"),
    name: str = typer.Option(None, "--name", help="Worker name (default: the folder name)."),
) -> None:
    """Create a new project from a template."""
    files = create_project(directory, template, name)
    typer.echo(f"✨ Created {directory} from template '{template}' ({len(files)} files).")
    typer.echo(f"   cd {directory} && wranglerpy dev")
