"""Turns file changes into reloads of the workers whose sources or config changed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from wranglerpy.config.dotenv import dev_vars_files
from wranglerpy.config.schema import WorkerConfig
from wranglerpy.supervisor.supervisor import Supervisor

if TYPE_CHECKING:
    from watchfiles import DefaultFilter

IGNORED_DIRS = frozenset({".wranglerpy", ".wrangler", "node_modules", ".venv", "venv"})


def watch_roots(config: WorkerConfig) -> list[Path]:
    """The folder of ``main``, every ``[build] watch_dir``, the config file itself, and the
    secret files its secrets were read from (``.dev.vars.<env>``, ``.env.local``, ...)."""
    roots: list[Path] = []
    if config.main is not None:
        roots.append(config.main.parent.resolve())
    roots.extend(p.resolve() for p in config.build.watch_dir)
    roots.append(config.config_path.resolve())
    roots.extend(p.resolve() for p in dev_vars_files(config.root, config.env_name))
    return roots


# Editors' scratch files, beside watchfiles' own list (swap files, `~` backups, JetBrains'):
# vim's write probe ("4913"), and temp files renamed over the real one on save.
EDITOR_TEMP_PATTERNS = (r"^\d+$", r"\.tmp(\.\w+)?$", r"\.\w+\.tmp\d*$")


def source_filter() -> DefaultFilter:
    """watchfiles' default filter, plus our folders and editors' temp files. watchfiles is
    imported here, when watching starts: not on the path of the workers' start."""
    from watchfiles import DefaultFilter

    return DefaultFilter(
        ignore_dirs=tuple(DefaultFilter.ignore_dirs) + tuple(IGNORED_DIRS),
        ignore_entity_patterns=tuple(DefaultFilter.ignore_entity_patterns) + EDITOR_TEMP_PATTERNS,
    )


def named_first(paths: Iterable[str]) -> list[str]:
    """Files that exist now before those that vanished: a save that wrote a temp file and
    renamed it over the source names the source, not the temp file, in the reload line."""
    return sorted(paths, key=lambda p: not Path(p).exists())


def affected(
    paths: Iterable[str],
    workers: dict[str, WorkerConfig],
    modules: dict[str, frozenset[str]] | None = None,
) -> dict[str, str]:
    """``{worker name: first changed path}`` for every worker that watches a changed path.

    A changed ``.py`` file reloads only the workers that imported it (``modules``, as the
    worker processes report them), so two workers sharing a folder do not restart each
    other; a worker that has not loaded (a broken import) reloads on any change.
    """
    hits: dict[str, str] = {}
    for raw in paths:
        path = Path(raw).resolve()
        for name, config in workers.items():
            if name in hits:
                continue
            imported = (modules or {}).get(name)
            if (
                imported
                and path.suffix == ".py"
                and config.main is not None
                and config.main.parent.resolve() in path.parents
                and str(path) not in imported
            ):
                continue  # a module of the worker's folder that it does not import
            for root in watch_roots(config):
                if path == root or root in path.parents:
                    hits[name] = str(path)
                    break
    return hits


async def watch(supervisor: Supervisor, stop: asyncio.Event) -> None:
    """Watch until ``stop`` is set; each batch of changes reloads each affected worker once."""
    from watchfiles import Change, awatch

    workers = supervisor.workers
    roots = sorted(
        {r if r.is_dir() else r.parent for w in workers.values() for r in watch_roots(w.config)}
    )
    async for changes in awatch(
        *roots,
        watch_filter=source_filter(),
        stop_event=stop,
        debounce=40,
        step=10,
        rust_timeout=500,
        yield_on_timeout=False,
    ):
        changed = [
            path
            for kind, path in changes
            if kind in (Change.added, Change.modified, Change.deleted)
        ]
        configs = {name: w.config for name, w in workers.items()}
        imported = {name: w.pool.modules for name, w in workers.items()}
        for name, path in affected(named_first(changed), configs, imported).items():
            asyncio.ensure_future(supervisor.reload(name, f"{Path(path).name} changed"))
