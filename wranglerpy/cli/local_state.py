"""Shared by the state commands (``kv``, ``d1``, ``r2``, ``analytics``): which config, which
persist dir, no remote, and running one call on a binding.

These commands open the same SQLite files a running ``wranglerpy dev`` uses (WAL mode lets
both work at once), so they need no server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import typer

from wranglerpy.cli._options import CONFIG_HELP, ENV_HELP, PERSIST_HELP
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.errors import ConfigError, UsageError

# The default-value spelling of the _options aliases, for `state reset`, which still uses it.
CONFIG_OPTION = typer.Option(None, "--config", "-c", help=CONFIG_HELP)
ENV_OPTION = typer.Option(None, "--env", "-e", help=ENV_HELP)
PERSIST_OPTION = typer.Option(None, "--persist-to", help=PERSIST_HELP)


class Closable(Protocol):
    def close(self) -> None: ...


B = TypeVar("B", bound=Closable)
T = TypeVar("T")


@dataclass(frozen=True)
class LocalTarget:
    """The parsed config (None when there is none and none is needed) and the state folder."""

    config: WorkerConfig | None
    persist_dir: Path


def find_config(config: Path | None, cwd: Path | None = None) -> Path | None:
    """``-c`` as given, else the first default config file in ``cwd``, else None."""
    if config is not None:
        if not config.is_file():
            raise ConfigError(f"Config file not found: {config}")
        return config.resolve()
    from wranglerpy.config.load import DEFAULT_STEM, discover_configs

    found = discover_configs((cwd or Path.cwd()).resolve())  # the default one first, if any
    return found[0] if found and found[0].stem == DEFAULT_STEM else None


def resolve_target(
    config: Path | None,
    env: str | None,
    persist_to: Path | None,
    remote: bool,
    *,
    need_config: bool,
    cwd: Path | None = None,
) -> LocalTarget:
    """Load the config (when there is one) and pick the persist dir."""
    from wranglerpy.config.load import load_worker
    from wranglerpy.config.persist import default_persist_dir

    if remote:
        raise UsageError(
            "--remote is not supported: wranglerpy keeps all state on this machine. "
            "Drop --remote (--local is the default)."
        )
    folder = (cwd or Path.cwd()).resolve()
    path = find_config(config, folder)
    if path is None and need_config:
        raise ConfigError(
            f"No wrangler.json, wrangler.jsonc or wrangler.toml found in {folder}. "
            "Pass one with -c/--config."
        )
    worker = load_worker(path, env) if path is not None else None
    if persist_to is not None:
        persist_dir = persist_to.resolve()
    else:
        persist_dir = default_persist_dir(worker.root if worker else folder)
    return LocalTarget(worker, persist_dir)


def run_on(open_binding: Callable[[], B], action: Callable[[B], Awaitable[T]]) -> T:
    """Open a binding, await one action on it in a fresh event loop, and close it even when
    the action fails (each CLI command is one short-lived call on one store)."""

    async def main() -> T:
        binding = open_binding()
        try:
            return await action(binding)
        finally:
            aclose = getattr(binding, "aclose", None)  # a server's connections close async
            if aclose is not None:
                await aclose()
            else:
                binding.close()

    return asyncio.run(main())
