"""``wranglerpy state reset``: delete the local state folder (every binding's local data)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote

import typer

from wranglerpy.bindings import state_lock
from wranglerpy.cli.common import handle_errors
from wranglerpy.cli.local_state import CONFIG_OPTION, ENV_OPTION, PERSIST_OPTION, resolve_target
from wranglerpy.errors import StateError

app = typer.Typer(
    help="Local state (every binding's data under the persist folder).", no_args_is_help=True
)

# The folders bindings write under the persist dir, one entry per item inside.
KIND_LABELS = {
    "kv": "KV namespace",
    "d1": "D1 database",
    "r2": "R2 bucket",
    "analytics_engine": "Analytics Engine dataset",
    "do": "Durable Object class",
    "vectorize": "Vectorize index",
    "ratelimit": "Rate limit namespace",
}
# Folders that hold one store for every binding of their kind: one line each.
STORE_LABELS = {
    "queues": "Queues (every queue and its messages)",
    "workflows": "Workflows (every instance and its steps)",
    "send_email": "Recorded email (send_email)",
    "cache": "Cache API entries",
}
KNOWN_FOLDERS = (*KIND_LABELS, *STORE_LABELS)
# Files whose presence means the folder is a project or a home, not a state folder.
PROJECT_MARKERS = (
    ".git",
    "wrangler.toml",
    "wrangler.json",
    "wrangler.jsonc",
    "pyproject.toml",
    "package.json",
)


def describe(persist_dir: Path) -> list[str]:
    """One line per binding store (``R2 bucket photos``) and per other entry."""
    lines: list[str] = []
    for entry in sorted(persist_dir.iterdir()):
        if entry.name == state_lock.LOCK_NAME:
            continue
        label = KIND_LABELS.get(entry.name)
        if entry.name in STORE_LABELS and entry.is_dir():
            lines.append(STORE_LABELS[entry.name])
        elif label is not None and entry.is_dir():
            for item in sorted(entry.iterdir()):
                if item.is_dir() and not item.name.startswith("."):  # not do/metadata.sqlite
                    lines.append(f"{label} {unquote(item.name)}")
        else:
            lines.append(f"{entry.name}{'/' if entry.is_dir() else ''}")
    return lines


def check_safe(persist_dir: Path, cwd: Path) -> None:
    """Refuse folders that are plainly not a state folder (/, home, the project itself)."""
    resolved = persist_dir.resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        raise StateError(f"Refusing to delete {resolved}: it is not a state folder.")
    if resolved == cwd or resolved in cwd.parents:
        raise StateError(f"Refusing to delete {resolved}: it contains the current directory.")
    markers = [m for m in PROJECT_MARKERS if (resolved / m).exists()]
    if markers:
        raise StateError(
            f"Refusing to delete {resolved}: it holds {', '.join(markers)}, so it looks like a "
            "project, not a state folder. Check --persist-to."
        )
    # Only what the bindings write may be there: anything else is someone's data.
    strangers = sorted(
        f"{p.name}{'/' if p.is_dir() else ''}"
        for p in resolved.iterdir()
        if not (p.name in KNOWN_FOLDERS and p.is_dir() and not p.is_symlink())
        and not (p.name == state_lock.LOCK_NAME and p.is_file() and not p.is_symlink())
    )
    if strangers:
        shown = ", ".join(strangers[:5]) + (", ..." if len(strangers) > 5 else "")
        raise StateError(
            f"Refusing to delete {resolved}: it holds {shown}, which local state never contains "
            f"(only {', '.join(KNOWN_FOLDERS)}/). Check --persist-to, or delete it yourself."
        )


def holders(persist_dir: Path) -> list[int]:
    """PIDs of other processes with a file under ``persist_dir`` open (Linux /proc; else [])."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    root = str(persist_dir.resolve()) + os.sep
    found: list[int] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:  # gone, or another user's process
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith(root):
                found.append(int(entry.name))
                break
    return sorted(found)


@app.command("reset")
@handle_errors
def reset(
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    config: Path = CONFIG_OPTION,
    env: str = ENV_OPTION,
    persist_to: Path = PERSIST_OPTION,
) -> None:
    """Delete all local state: KV, D1, R2, Analytics Engine, Durable Objects, queues, ...

    Refused while a `wranglerpy dev` session uses the folder: stop it first.
    """
    target = resolve_target(config, env, persist_to, False, need_config=False)
    persist_dir = target.persist_dir
    if not persist_dir.exists():
        typer.echo(f"Nothing to reset: {persist_dir} does not exist.")
        return
    if not persist_dir.is_dir():
        raise StateError(f"{persist_dir} is not a folder; refusing to delete it.")
    check_safe(persist_dir, Path.cwd().resolve())
    with state_lock.exclusive(persist_dir):
        _reset(persist_dir, yes)


def _reset(persist_dir: Path, yes: bool) -> None:
    contents = describe(persist_dir)
    typer.echo(f"Local state in {persist_dir}:")
    for line in contents or ["(empty)"]:
        typer.echo(f"  {line}")
    busy = holders(persist_dir)
    if busy:
        typer.echo(
            f"Warning: process(es) {', '.join(map(str, busy))} have stores in it open (a running "
            "`wranglerpy dev`?); stop them first, or what they write next is lost."
        )
    if not yes and not typer.confirm("Delete all of it?", default=False):
        typer.echo("Nothing deleted.")
        raise typer.Exit(1)
    try:
        shutil.rmtree(persist_dir)
    except OSError as exc:
        raise StateError(f"Could not delete {persist_dir}: {exc.strerror or exc}") from None
    typer.echo(f"Removed {persist_dir} ({len(contents)} item{'s' if len(contents) != 1 else ''}).")
