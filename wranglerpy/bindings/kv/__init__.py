"""Workers KV: ``create(config, persist_dir)`` gives the object behind ``env.<KV>``.

State: by default ``<persist_dir>/kv/<namespace id>/kv.sqlite`` (one SQLite file per namespace
id, so every worker and the CLI naming the same id share it); with a KV backend
(``--kv-backend`` / ``WRANGLERPY_KV_BACKEND``, see :mod:`wranglerpy.state`) a Redis server
that every node shares.
"""

from __future__ import annotations

from pathlib import Path

from wranglerpy.bindings._sqlite import state_dir
from wranglerpy.bindings.kv.binding import KVNamespaceBinding
from wranglerpy.bindings.kv.store import KVStore, SQLiteKVStore
from wranglerpy.bindings.kv.validate import KVError
from wranglerpy.config.schema import KVNamespace

__all__ = [
    "KVError",
    "KVNamespaceBinding",
    "KVStore",
    "SQLiteKVStore",
    "create",
    "namespace_path",
    "open_namespace",
]

DB_FILE = "kv.sqlite"


def namespace_path(persist_dir: Path, namespace_id: str) -> Path:
    """Where the namespace ``namespace_id`` is stored under ``persist_dir``."""
    return state_dir(persist_dir, "kv", namespace_id) / DB_FILE


def open_namespace(
    namespace_id: str, persist_dir: Path, backend: str | None = None
) -> KVNamespaceBinding:
    """The binding of namespace ``namespace_id`` on ``backend`` (a ``redis://`` URL), else on
    the backend ``WRANGLERPY_KV_BACKEND`` names, else on the local SQLite store."""
    from wranglerpy.state.backends import StateBackends

    backends = StateBackends.resolve(kv=backend)
    store = backends.kv_store(namespace_id, persist_dir)
    return KVNamespaceBinding(store, namespace_id=namespace_id)


def create(config: KVNamespace, persist_dir: Path) -> KVNamespaceBinding:
    return open_namespace(config.id, persist_dir)
