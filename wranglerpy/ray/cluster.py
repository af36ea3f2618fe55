"""Connecting to a Ray cluster, and the names wranglerpy gives things in it."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from wranglerpy.errors import DeployError, UsageError

NAMESPACE = "wranglerpy"  # every named actor and the Serve apps' handles live here
INGRESS_APP = "wranglerpy-ingress"
AI_APP = "wranglerpy-ai"
TAIL_ACTOR = "wranglerpy-tail"
RAY_DIR_ENV = "WRANGLERPY_RAY_DIR"
DEFAULT_HTTP_PORT = 8000  # Serve's own default


def default_ray_dir() -> Path:
    """Versions and deployment history of the Ray target (the local edge keeps its own)."""
    configured = os.environ.get(RAY_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".wranglerpy" / "ray"


def require_ray() -> Any:
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        import ray
        from ray import serve  # noqa: F401 - Serve is part of the extra
    except ImportError:
        raise UsageError("--target ray needs Ray Serve: pip install 'wranglerpy[ray]'") from None
    return ray


def connect(address: str | None) -> None:
    """Join the cluster at ``address`` as a driver (``auto``: the one started on this machine)."""
    ray = require_ray()
    # Serve's INFO lines ("Connecting to existing Serve app...") are not the user's business.
    logging.getLogger("ray.serve").setLevel(logging.WARNING)
    if ray.is_initialized():
        return
    where = address or os.environ.get("RAY_ADDRESS") or "auto"
    try:
        ray.init(
            address=where,
            namespace=NAMESPACE,
            log_to_driver=False,
            logging_level=logging.WARNING,
            configure_logging=False,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DeployError(
            f"No Ray cluster at {where} ({first}). Start one with `ray start --head` or pass "
            "--ray-address HOST:PORT."
        ) from None


def start_serve(http_port: int | None, proxy_location: str = "EveryNode") -> None:
    """Start Serve's controller and proxies once (a no-op when Serve already runs)."""
    from ray import serve

    serve.start(
        proxy_location=proxy_location,
        http_options={"host": "127.0.0.1", "port": http_port or DEFAULT_HTTP_PORT},
    )
