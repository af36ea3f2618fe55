"""The AI binding on a cluster: one shared model deployment that every worker's AI binding
calls (``ModelService`` over a deployment handle), so N workers share its replicas instead
of loading N copies. Its replicas, resources and ``max_ongoing_requests`` come from
``ray.toml``; Ray's default of 5 ongoing requests per replica would cap concurrent streams.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import numpy as np

from wranglerpy.ai import wire
from wranglerpy.ai.models import LocalModel
from wranglerpy.ai.text import TextEvents, TextRequest, TextResult, collect_result
from wranglerpy.ray.cluster import AI_APP


class ModelDeployment:
    """The deployment's class: the in-process engine of one replica."""

    def __init__(self) -> None:
        from wranglerpy.ai.engine import get_engine

        self.engine = get_engine()

    async def generate(
        self, model: dict[str, Any], request: dict[str, Any]
    ) -> AsyncGenerator[dict[str, Any], None]:
        """``accepted``, then ``piece``s, then ``done`` (or one ``error``), as the host sends."""
        try:
            events = self.engine.stream(
                wire.model_from_wire(model), wire.request_from_wire(request)
            )
            await events.accepted()
        except Exception as exc:  # noqa: BLE001 - the caller re-raises it with its type
            yield {"kind": "error", "error": wire.error_to_wire(exc)}
            return
        yield {"kind": "accepted"}
        try:
            async for item in events:
                if isinstance(item, TextResult):
                    yield {"kind": "done", "result": wire.result_to_wire(item)}
                else:
                    yield {"kind": "piece", "text": item}
        except Exception as exc:  # noqa: BLE001
            yield {"kind": "error", "error": wire.error_to_wire(exc)}
        finally:
            events.cancel()  # the caller left: stop decoding

    async def embed(self, model: dict[str, Any], texts: list[str]) -> dict[str, Any]:
        try:
            vectors = await self.engine.embed(wire.model_from_wire(model), texts)
        except Exception as exc:  # noqa: BLE001
            return {"kind": "error", "error": wire.error_to_wire(exc)}
        return {"kind": "vectors", "vectors": wire.vectors_to_wire(vectors)}


class RayModelService:
    """``ModelService`` for worker replicas (``WRANGLERPY_AI_HOST=ray``)."""

    def __init__(self, app: str = AI_APP) -> None:
        self.app = app
        self._handle: Any = None

    def handle(self) -> Any:
        if self._handle is None:
            from ray import serve

            self._handle = serve.get_deployment_handle(self.app, app_name=self.app)
        return self._handle

    def stream(self, model: LocalModel, request: TextRequest) -> TextEvents:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        accepted: asyncio.Future[None] = loop.create_future()
        accepted.add_done_callback(_retrieve)
        generator = (
            self.handle()
            .options(stream=True)
            .generate.remote(wire.model_to_wire(model), wire.request_to_wire(request))
        )

        def fail(exc: Exception) -> None:
            if not accepted.done():
                accepted.set_exception(exc)
            queue.put_nowait(("error", exc))

        async def pump() -> None:
            try:
                async for frame in generator:
                    kind = frame.get("kind")
                    if kind == "accepted":
                        accepted.set_result(None)
                    elif kind == "piece":
                        queue.put_nowait(("piece", str(frame["text"])))
                    elif kind == "done":
                        queue.put_nowait(("done", wire.result_from_wire(frame["result"])))
                        return
                    else:
                        fail(wire.error_from_wire(frame.get("error") or {}))
                        return
                fail(ConnectionError("the model deployment ended the stream early"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a lost replica, a missing app
                fail(RuntimeError(f"the model deployment {self.app} failed: {exc}"))

        task = loop.create_task(pump())

        def cancel() -> None:
            # May run from the garbage collector, on another thread.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_stop, task, generator)

        return TextEvents(queue, cancel, accepted)

    async def complete(self, model: LocalModel, request: TextRequest) -> TextResult:
        return await collect_result(self.stream(model, request))

    async def embed(self, model: LocalModel, texts: Sequence[str]) -> np.ndarray:
        answer = await self.handle().embed.remote(wire.model_to_wire(model), list(texts))
        if answer.get("kind") != "vectors":
            raise wire.error_from_wire(answer.get("error") or {})
        return wire.vectors_from_wire(answer["vectors"])


def _stop(task: asyncio.Task[None], generator: Any) -> None:
    if not task.done():
        task.cancel()
        with contextlib.suppress(Exception):
            generator.cancel()


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


_service: RayModelService | None = None


def ray_model_service() -> RayModelService:
    """The replica-wide client of the shared model deployment."""
    global _service
    if _service is None:
        _service = RayModelService()
    return _service
