"""R2's S3-compatible API for the local buckets: ``create_app(...)`` is an ASGI app over the
same store the R2 binding uses (``wranglerpy.bindings.r2``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wranglerpy.services.s3.auth import DEFAULT_CREDENTIALS, Credentials

if TYPE_CHECKING:
    from wranglerpy.services.s3.app import S3App

__all__ = ["DEFAULT_CREDENTIALS", "Credentials", "S3App", "create_app"]


def create_app(
    persist_dir: Path, credentials: Mapping[str, str], buckets: Iterable[str] = ()
) -> S3App:
    """The S3 API over ``<persist_dir>/r2``; ``credentials`` maps access key id -> secret.

    With an R2 backend selected (``WRANGLERPY_R2_BACKEND``) it answers NotImplemented, naming
    that server: the local folders would not be what the workers see."""
    from wranglerpy.services.s3.app import S3App
    from wranglerpy.services.s3.auth import Verifier
    from wranglerpy.services.s3.buckets import Buckets
    from wranglerpy.state.backends import StateBackends, parse_r2_url, redact

    r2 = StateBackends.from_env().r2
    elsewhere = redact(parse_r2_url(r2).endpoint) if r2 else None
    return S3App(Buckets(persist_dir, buckets), Verifier(credentials), elsewhere)


def __getattr__(name: str) -> Any:
    # The server is imported on use: `dev` reads only DEFAULT_CREDENTIALS from this package
    # (services/spec.py), and the server's imports cost its start ~70 ms.
    if name == "S3App":
        from wranglerpy.services.s3.app import S3App

        return S3App
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
