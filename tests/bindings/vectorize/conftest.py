"""An index on disk and a binding to it."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wranglerpy.bindings.vectorize.binding import VectorizeIndexBinding
from wranglerpy.bindings.vectorize.catalog import create_index, index_path


def open_index(
    persist: Path, name: str, dimensions: int, metric: str, **kwargs: Any
) -> VectorizeIndexBinding:
    """A new index; graphs are built before the query that needs them returns, so tests
    see the graph answer (a running worker builds it in the background instead)."""
    create_index(persist, name, dimensions=dimensions, metric=metric)
    kwargs.setdefault("build_in_background", False)
    return VectorizeIndexBinding(index_path(persist, name), name, **kwargs)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[VectorizeIndexBinding]:
    binding = open_index(tmp_path, "idx", 3, "cosine")
    yield binding
    binding.close()
