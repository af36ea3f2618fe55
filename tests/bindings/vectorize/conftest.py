"""An index on disk and a binding to it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from wranglerpy.bindings.vectorize.binding import VectorizeIndexBinding
from wranglerpy.bindings.vectorize.catalog import create_index, index_path


def open_index(
    persist: Path, name: str, dimensions: int, metric: str, **kwargs: int
) -> VectorizeIndexBinding:
    create_index(persist, name, dimensions=dimensions, metric=metric)
    return VectorizeIndexBinding(index_path(persist, name), name, **kwargs)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[VectorizeIndexBinding]:
    binding = open_index(tmp_path, "idx", 3, "cosine")
    yield binding
    binding.close()
