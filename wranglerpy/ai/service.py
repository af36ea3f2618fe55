"""What an AI binding talks to: the model service, in this process or shared.

:class:`ModelService` is the seam: the in-process :class:`~wranglerpy.ai.engine.Engine`, the
machine's model host through :class:`~wranglerpy.ai.client.HostClient` (the default in
``dev`` and on the local edge), and later a Ray deployment all offer these three calls.
``WRANGLERPY_AI_HOST=process`` keeps the models inside each worker process instead (one copy
per worker; no extra process).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from wranglerpy.ai.models import LocalModel
from wranglerpy.ai.text import TextEvents, TextRequest, TextResult
from wranglerpy.errors import AIError

HOST_ENV = "WRANGLERPY_AI_HOST"
MODES = ("shared", "process", "ray")  # "ray": set in replicas by the Ray target


class ModelService(Protocol):
    def stream(self, model: LocalModel, request: TextRequest) -> TextEvents:
        """Start a generation; ``await events.accepted()`` raises the capacity error."""
        ...

    async def complete(self, model: LocalModel, request: TextRequest) -> TextResult: ...

    async def embed(self, model: LocalModel, texts: Sequence[str]) -> np.ndarray: ...


def default_service() -> ModelService:
    mode = os.environ.get(HOST_ENV, "shared") or "shared"
    if mode not in MODES:
        raise AIError(f"{HOST_ENV}={mode!r} is not one of: {', '.join(MODES)}")
    if mode == "process":
        from wranglerpy.ai.engine import get_engine

        return get_engine()
    if mode == "ray":
        from wranglerpy.ray.ai import ray_model_service

        return ray_model_service()
    from wranglerpy.ai.client import get_host_client

    return get_host_client()
