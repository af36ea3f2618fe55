"""Local KV namespaces, D1 databases and R2 buckets as things you create, list and delete.

On Cloudflare these exist before a worker binds them (``wrangler kv namespace create``,
``d1 create``, ``r2 bucket create``); locally a binding creates its store on first use. These
helpers give the CLI commands the same verbs over the persist dir: a resource is the folder
``<persist_dir>/<kind>/<id>/`` (see ``bindings._sqlite.state_dir``), and ``resource.json`` in
it keeps what Cloudflare would know about it (its name and when it was created).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

from wranglerpy.bindings._sqlite import state_dir
from wranglerpy.private_paths import FILE_MODE, private_dir

META_FILE = "resource.json"


@dataclass(frozen=True)
class LocalResource:
    """One local namespace, database or bucket: its id, its name, and where it lives."""

    kind: str
    ident: str
    name: str
    created_on: str | None
    folder: Path

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file())


def _read_meta(folder: Path) -> dict[str, str]:
    try:
        data = json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def create(persist_dir: Path, kind: str, ident: str, name: str) -> LocalResource:
    """Make the resource's folder and record its name; an error if it exists already."""
    folder = state_dir(persist_dir, kind, ident)
    if folder.exists():
        raise FileExistsError(folder)
    private_dir(folder)  # 0700 with its parents, as every state folder
    created = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    (folder / META_FILE).write_text(json.dumps({"name": name, "created_on": created}))
    os.chmod(folder / META_FILE, FILE_MODE)
    return LocalResource(kind, ident, name, created, folder)


def listing(persist_dir: Path, kind: str) -> list[LocalResource]:
    """Every resource of ``kind`` with state under ``persist_dir``, by id."""
    root = persist_dir / kind
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        ident = unquote(folder.name)
        meta = _read_meta(folder)
        found.append(
            LocalResource(kind, ident, meta.get("name", ident), meta.get("created_on"), folder)
        )
    return found


def find(persist_dir: Path, kind: str, id_or_name: str) -> LocalResource | None:
    """The resource whose id or recorded name is ``id_or_name``."""
    for resource in listing(persist_dir, kind):
        if id_or_name in (resource.ident, resource.name):
            return resource
    return None


def delete(resource: LocalResource) -> None:
    shutil.rmtree(resource.folder)


def binding_advice(section: str, fields: dict[str, str], config: Path | None) -> str:
    """What ``create`` prints after making a resource: the config lines that bind it."""
    return "To bind it in your worker, add this to your configuration file:\n" + snippet(
        section, fields, config
    )


def snippet(section: str, fields: dict[str, str], config: Path | None) -> str:
    """The config lines that bind a new resource, in the config's own format."""
    if config is not None and config.suffix in (".json", ".jsonc"):
        return json.dumps({section: [fields]}, indent=2)
    lines = [f"[[{section}]]"] + [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    return "\n".join(lines)
