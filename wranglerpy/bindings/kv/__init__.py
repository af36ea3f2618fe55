"""Workers KV, locally: ``create(config, persist_dir)`` gives the object behind ``env.<KV>``.

State: ``<persist_dir>/kv/<namespace id>/kv.sqlite`` (one SQLite file per namespace id, so
every worker and the CLI naming the same id share it).
"""

from __future__ import annotations

from pathlib import Path

from wranglerpy.bindings._sqlite import state_dir
from wranglerpy.bindings.kv.binding import KVNamespaceBinding
from wranglerpy.bindings.kv.validate import KVError
from wranglerpy.config.schema import KVNamespace

__all__ = ["KVError", "KVNamespaceBinding", "create", "namespace_path"]

DB_FILE = "kv.sqlite"


def namespace_path(persist_dir: Path, namespace_id: str) -> Path:
    """Where the namespace ``namespace_id`` is stored under ``persist_dir``."""
    return state_dir(persist_dir, "kv", namespace_id) / DB_FILE


def create(config: KVNamespace, persist_dir: Path) -> KVNamespaceBinding:
    return KVNamespaceBinding(namespace_path(persist_dir, config.id), namespace_id=config.id)
