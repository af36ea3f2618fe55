"""Where Durable Object state lives under the persist dir.

``<persist>/do/<worker>-<class>/<id>.sqlite``: one SQLite file per object, in a folder named by
the namespace's unique key (miniflare's layout), plus ``<persist>/do/metadata.sqlite`` for the
applied migration tags and the alarm index shared by every process.
"""

from __future__ import annotations

from pathlib import Path

from wranglerpy.bindings._sqlite import state_dir

KIND = "do"
METADATA_FILE = "metadata.sqlite"


def namespace_dir(persist_dir: Path, key: str) -> Path:
    return state_dir(persist_dir, KIND, key)


def object_file(persist_dir: Path, key: str, object_id: str) -> Path:
    return namespace_dir(persist_dir, key) / f"{object_id}.sqlite"


def metadata_file(persist_dir: Path) -> Path:
    return persist_dir / KIND / METADATA_FILE
