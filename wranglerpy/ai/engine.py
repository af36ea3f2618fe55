"""One engine per process: models loaded once on first use, requests run on worker threads.

Generation runs on one dedicated thread (one model instance, one request at a time; a 2-core
box gains nothing from interleaving) and embeddings on another, so the worker's event loop
never blocks. Tokens travel back through ``loop.call_soon_threadsafe``. Requests past
``max_pending`` (running + waiting) fail at once with Workers AI's capacity error instead of
queueing without bound. Closing or cancelling a stream sets an event the decode loop checks
before every step.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.embeddings import EmbeddingModel
from wranglerpy.ai.generate import Constraint, Generation, TextModel, TextStream
from wranglerpy.ai.models import LocalModel
from wranglerpy.ai.sampling import SamplingParams
from wranglerpy.errors import AIError

log = logging.getLogger("wranglerpy.ai")

CAPACITY_ERROR = "AiError: 3040: Capacity temporarily exceeded, please try again."
DEFAULT_MAX_PENDING = 8
MAX_CONTEXT = 8192  # positions in the converted model's rotary cache


@dataclass
class TextRequest:
    """A prompt, already validated: chat ``messages`` or a ``prompt`` (``raw``: no template)."""

    params: SamplingParams
    messages: list[dict[str, str]] | None = None
    prompt: str | None = None
    raw: bool = False
    # Built on the generation thread (it needs the loaded tokenizer).
    constraint: Callable[[TextModel], Constraint] | None = None


@dataclass
class TextResult:
    text: str
    generation: Generation
    pieces: list[str] = field(default_factory=list)

    @property
    def usage(self) -> dict[str, int]:
        prompt, completion = self.generation.prompt_tokens, len(self.generation.token_ids)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }


class Engine:
    def __init__(
        self,
        cache: ModelCache | None = None,
        threads: int = 1,
        max_pending: int = DEFAULT_MAX_PENDING,
        pull_missing: bool = True,
    ) -> None:
        self.cache = cache or ModelCache()
        self.threads = threads
        self.max_pending = max_pending
        self.pull_missing = pull_missing
        self._models: dict[str, Any] = {}
        self._load_lock = threading.Lock()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._text_thread = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="wranglerpy-ai-text"
        )
        self._embed_thread = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="wranglerpy-ai-embed"
        )

    @property
    def pending(self) -> int:
        return self._pending

    def _acquire(self) -> None:
        with self._pending_lock:
            if self._pending >= self.max_pending:
                raise AIError(CAPACITY_ERROR)
            self._pending += 1

    def _release(self) -> None:
        with self._pending_lock:
            self._pending -= 1

    def load(self, model: LocalModel) -> Any:
        """The loaded model, pulling it into the cache first if needed (blocking; call off-loop)."""
        with self._load_lock:
            if model.name in self._models:
                return self._models[model.name]
            if not self.cache.is_cached(model):
                if not self.pull_missing:
                    self.cache.require(model)
                log.info(
                    "Workers AI: pulling %s into %s (first use; later runs reuse the cache)",
                    model.name,
                    self.cache.root,
                )
                try:
                    self.cache.pull(model)
                except AIError as exc:
                    raise AIError(
                        f"{model.name} is not cached and could not be pulled: {exc.message}"
                    ) from None
            path = self.cache.require(model)
            loaded: Any = (
                TextModel(path, self.threads)
                if model.task == "text-generation"
                else EmbeddingModel(path, self.threads)
            )
            self._models[model.name] = loaded
            return loaded

    async def embed(self, model: LocalModel, texts: Sequence[str]) -> np.ndarray:
        self._acquire()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._embed_thread, lambda: self.load(model).embed(texts)
            )
        finally:
            self._release()

    async def complete(self, model: LocalModel, request: TextRequest) -> TextResult:
        pieces: list[str] = []
        result: TextResult | None = None
        async for item in self.stream(model, request):
            if isinstance(item, TextResult):
                result = item
            else:
                pieces.append(item)
        assert result is not None
        result.pieces = pieces
        return result

    async def stream(
        self, model: LocalModel, request: TextRequest
    ) -> AsyncIterator[str | TextResult]:
        """Text pieces as they are generated, then one :class:`TextResult`."""
        self._acquire()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        cancel = threading.Event()

        def post(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the loop is gone: nobody is listening any more
                cancel.set()

        def job() -> None:
            try:
                post(
                    "done",
                    self._generate(model, request, cancel, lambda piece: post("piece", piece)),
                )
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
                post("error", exc)
            finally:
                self._release()

        try:
            loop.run_in_executor(self._text_thread, job)
        except BaseException:
            self._release()
            raise
        try:
            while True:
                kind, value = await queue.get()
                if kind == "piece":
                    yield value
                elif kind == "done":
                    yield value
                    return
                else:
                    raise value
        finally:
            cancel.set()

    def _generate(
        self,
        model: LocalModel,
        request: TextRequest,
        cancel: threading.Event,
        emit: Callable[[str], None],
    ) -> TextResult:
        if cancel.is_set():  # abandoned while waiting in the queue
            return TextResult("", Generation(0, finish_reason="cancelled"))
        text_model: TextModel = self.load(model)
        if request.raw or request.messages is None:
            prompt = request.prompt or ""
        else:
            prompt = text_model.template.render(request.messages)
        ids = text_model.encode(prompt)
        if len(ids) + request.params.max_tokens > MAX_CONTEXT:
            raise AIError(
                f"AiError: 5021: The input ({len(ids)} tokens) plus max_tokens exceeds the model's context window of {MAX_CONTEXT} tokens"
            )
        constraint = request.constraint(text_model) if request.constraint else None
        state = Generation(prompt_tokens=len(ids))
        stream = TextStream(text_model)
        for token in text_model.tokens(ids, request.params, cancel, constraint, state):
            piece = stream.push(token)
            if piece:
                emit(piece)
        return TextResult(text_model.decode(state.token_ids), state)


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine, shared by every AI binding (and worker) in this process."""
    global _engine
    with _engine_lock:
        if _engine is None:
            pending = int(os.environ.get("WRANGLERPY_AI_MAX_PENDING", DEFAULT_MAX_PENDING))
            _engine = Engine(max_pending=pending)
        return _engine
