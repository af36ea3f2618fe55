"""``env``: a worker's vars, secrets and bindings, read as attributes (``env.DB``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class Env(Mapping[str, Any]):
    """Attribute and item access to the bindings; unknown names raise AttributeError/KeyError."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        from wranglerpy.jsobject import as_js_object
        from wranglerpy.runtime import current

        # JSON [vars] read as JS objects do on Cloudflare: env.CONFIG.feature.enabled.
        plain = {k: as_js_object(v) if type(v) in (dict, list) else v for k, v in values.items()}
        object.__setattr__(self, "_values", plain)
        current.set_process_env(self)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(
                f"env has no binding or variable named {name!r} "
                f"(it has: {', '.join(sorted(self._values)) or 'nothing'})"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("env is read-only")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Env({', '.join(sorted(self._values))})"
