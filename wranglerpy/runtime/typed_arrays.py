"""``Float32Array`` and ``Float64Array`` for ``from js import Float32Array``: what Python
Workers use to hand embeddings to bindings (workerd's own Python Vectorize test does
``IDX.query(Float32Array.new([0] * 5), topK=3)``; src/cloudflare/internal/test/vectorize/
vectorize-api-test.py). Locally they are a typed ``array.array``; ``to_py()`` gives a
``memoryview`` as Pyodide's conversion of a typed array does."""

from __future__ import annotations

import array
from collections.abc import Iterable
from typing import Any


class _TypedArray(array.array):
    _code = "d"

    def __new__(cls, data: Iterable[float] | int = ()) -> _TypedArray:
        if isinstance(data, int):  # new Float32Array(n): n zeros
            data = [0.0] * data
        return super().__new__(cls, cls._code, data)

    @classmethod
    def new(cls, data: Any = ()) -> _TypedArray:
        if hasattr(data, "to_py") and not isinstance(data, _TypedArray):
            data = data.to_py()
        return cls(data)

    @property
    def length(self) -> int:
        return len(self)

    def to_py(self) -> memoryview:
        return memoryview(self)


class Float32Array(_TypedArray):
    _code = "f"


class Float64Array(_TypedArray):
    _code = "d"
