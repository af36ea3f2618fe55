"""Shared CLI plumbing: turn WranglerError into a message and an exit code, find configs."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from wranglerpy.errors import WranglerError

F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]✘ \\[ERROR][/] {escape(message)}", markup=True)
    return typer.Exit(code)


def handle_errors(func: F) -> F:
    """Print a WranglerError as one clear line (no traceback) and exit non-zero."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WranglerError as exc:
            err_console.print(f"[bold red]✘ \\[ERROR][/] {escape(exc.message)}", markup=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def resolve_configs(configs: list[Path] | None, cwd: Path | None = None) -> list[Path]:
    """``-c`` paths as given, or every ``wrangler*.toml|json|jsonc`` in the folder."""
    from wranglerpy.config.load import discover_configs
    from wranglerpy.errors import ConfigError

    if configs:
        return [c.resolve() for c in configs]
    folder = (cwd or Path.cwd()).resolve()
    found = discover_configs(folder)
    if not found:
        raise ConfigError(
            f"No wrangler.toml, wrangler.json or wrangler.jsonc found in {folder}. "
            "Pass one with -c/--config, or create a project with `wranglerpy init`."
        )
    return found
