"""Vectorize, locally: ``create(config, persist_dir)`` gives the object behind ``env.<INDEX>``.

State: ``<persist_dir>/vectorize/<index_name>/index.sqlite`` (vectors, metadata, metadata
indexes) and ``ann.usearch`` (the approximate index, rebuilt from SQLite when missing). Every
worker and the CLI naming the same ``index_name`` share it. Indexes are created with
``wranglerpy vectorize create NAME --dimensions N --metric cosine`` (or ``--preset``); a
binding to an index that does not exist yet raises on use, not at start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wranglerpy.config.schema import VectorizeIndex
from wranglerpy.errors import BindingError

if TYPE_CHECKING:
    from wranglerpy.bindings.vectorize.binding import VectorizeIndexBinding

__all__ = ["create"]

INSTALL_HINT = "pip install 'wranglerpy[vectorize]'"


def create(config: VectorizeIndex, persist_dir: Path) -> VectorizeIndexBinding:
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise BindingError(f"Vectorize needs numpy: {INSTALL_HINT}") from None
    from wranglerpy.bindings.vectorize.binding import VectorizeIndexBinding
    from wranglerpy.bindings.vectorize.catalog import index_path

    return VectorizeIndexBinding(index_path(persist_dir, config.index_name), config.index_name)
