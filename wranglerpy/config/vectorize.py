"""``[[vectorize]]``: ``binding`` and ``index_name`` (wrangler's keys; workers-utils
``config/environment.ts``, ``vectorize``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wranglerpy.config.fields import Reader

_REMOTE = ("remote", "experimental_remote")


@dataclass(frozen=True)
class VectorizeIndex:
    """``[[vectorize]]``: ``env.<binding>`` queries the local index ``index_name``."""

    binding: str
    index_name: str


def parse_vectorize(r: Reader, t: dict[str, Any], path: str) -> tuple[VectorizeIndex, ...]:
    out = []
    for where, item in r.table_list(t, "vectorize", path):
        r.unknown_keys(item, ("binding", "index_name", *_REMOTE), where)
        if any(item.get(k) for k in _REMOTE):
            r.warn(f'"{where}.remote" is ignored: wranglerpy runs every binding locally')
        out.append(
            VectorizeIndex(
                binding=r.identifier(item, "binding", where),
                index_name=r.required_string(item, "index_name", where),
            )
        )
    return tuple(out)
