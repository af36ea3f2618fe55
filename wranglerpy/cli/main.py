"""The ``wranglerpy`` command: a thin typer app; each command group lives in its own module."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from typing import Any

import typer

from wranglerpy import __version__

_root = typer.Typer(
    name="wranglerpy",
    help="Run Cloudflare-Workers-style Python workers locally: dev, deploy, tail, bindings.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts mention [env.NAME] and [dev] literally
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wranglerpy {__version__}")
        raise typer.Exit()


@_root.callback()
def main(
    version: bool = typer.Option(
        False, "--version", "-v", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """wranglerpy: the whole multi-worker system on your laptop."""


# Command registrations: one line per command or group (its name, module, attribute, and
# whether it is a group). A run imports only the module of the command it runs: importing every
# group (rich, the bindings' clients, ...) cost ~0.3-0.5 s of each `dev` start.
COMMANDS: tuple[tuple[str, str, str, bool], ...] = (
    ("dev", "dev", "dev", False),
    ("init", "init", "init", False),
    ("kv", "kv", "app", True),
    ("d1", "d1", "app", True),
    ("r2", "r2", "app", True),
    ("analytics", "analytics", "app", True),
    ("state", "state_reset", "app", True),
    ("durable-objects", "durable_objects", "app", True),
    ("ai", "ai", "app", True),
    ("deploy", "deploy", "deploy", False),
    ("edge", "edge", "app", True),
    ("deployments", "deployments", "deployments_app", True),
    ("versions", "deployments", "versions_app", True),
    ("rollback", "deployments", "rollback", False),
    ("delete", "deployments", "delete", False),
    ("secret", "secret", "app", True),
    ("tail", "tail", "tail", False),
    ("queues", "queues", "app", True),
    ("workflows", "workflows", "app", True),
    ("types", "types", "types", False),
    ("whoami", "whoami", "whoami", False),
    ("services", "services", "services", False),
    ("schema", "schema", "schema", False),
    ("vectorize", "vectorize", "app", True),
    ("email", "email", "app", True),
)
_registered: set[str] = set()


def _register(names: Iterable[str]) -> None:
    for name, module, attr, group in COMMANDS:
        if name not in names or name in _registered:
            continue
        target = getattr(importlib.import_module(f"wranglerpy.cli.{module}"), attr)
        if group:
            _root.add_typer(target, name=name)
        else:
            _root.command(name)(target)
        _registered.add(name)


def _invoked(argv: list[str]) -> str | None:
    """The command ``argv`` runs, when only that one needs registering: not for help, shell
    completion or a mistyped name (those list or suggest every command)."""
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in os.environ):
        return None
    for arg in argv:
        if arg.startswith("-"):
            continue  # the root's own options: --version, --install-completion, ...
        return arg if any(arg == name for name, *_ in COMMANDS) else None
    return None


def __getattr__(name: str) -> Any:
    """``app``: the typer app with every command registered (tests and docs use it whole)."""
    if name == "app":
        _register(name for name, *_ in COMMANDS)
        return _root
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def command(argv: list[str] | None = None) -> Any:
    """The click command tree, with help metavars in click's words: only the command ``argv``
    runs when it names one, else every command."""
    from wranglerpy.cli.help_format import tidy_metavars

    invoked = _invoked(argv) if argv is not None else None
    _register([invoked] if invoked else [name for name, *_ in COMMANDS])
    tree = typer.main.get_command(_root)
    tidy_metavars(tree)
    return tree


def run() -> None:
    """Console-script entry point."""
    command(sys.argv[1:])()
