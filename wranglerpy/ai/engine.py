"""One engine per process: models loaded once on first use, requests run on worker threads.

Generation runs on one thread (scheduler.py) with continuous batching: up to ``max_batch``
concurrent generations of a model share each decode step, joining and leaving between steps.
Embeddings run on another thread, so the worker's event loop never blocks. Tokens travel
back through ``loop.call_soon_threadsafe``. Requests past
``max_pending`` (running + waiting) fail at once with Workers AI's capacity error instead of
queueing without bound. Closing or cancelling a stream sets an event the decode loop checks
before every step.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from wranglerpy.ai.batch import Decoding
from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.embeddings import EmbeddingModel
from wranglerpy.ai.generate import TextModel, TextStream
from wranglerpy.ai.guided import JsonGuide
from wranglerpy.ai.models import LocalModel
from wranglerpy.ai.prefill_graph import float_prefill_enabled
from wranglerpy.ai.scheduler import TextScheduler
from wranglerpy.ai.text import Generation, TextEvents, TextRequest, TextResult, collect_result
from wranglerpy.errors import AIError

log = logging.getLogger("wranglerpy.ai")

CAPACITY_ERROR = "AiError: 3040: Capacity temporarily exceeded, please try again."
DEFAULT_MAX_PENDING = 64  # running + waiting; apps usually put their own bound in front
DEFAULT_MAX_BATCH = 8  # sequences sharing one decode step; more wait for a free row
MAX_CONTEXT = 8192  # positions in the converted model's rotary cache


class Engine:
    def __init__(
        self,
        cache: ModelCache | None = None,
        threads: int = 1,
        max_pending: int = DEFAULT_MAX_PENDING,
        pull_missing: bool = True,
        max_batch: int = DEFAULT_MAX_BATCH,
        float_prefill: bool = True,
    ) -> None:
        self.cache = cache or ModelCache()
        self.threads = threads
        self.float_prefill = float_prefill
        self.max_pending = max_pending
        self.pull_missing = pull_missing
        self._models: dict[str, Any] = {}
        self._load_lock = threading.Lock()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._active: set[threading.Event] = set()  # cancel events of running/queued generations
        self._scheduler = TextScheduler(max_batch)
        self._embed_thread = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="wranglerpy-ai-embed"
        )

    @property
    def pending(self) -> int:
        return self._pending

    def cancel_all(self) -> None:
        """Stop every running and queued generation (process exit)."""
        for event in list(self._active):
            event.set()

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
                TextModel(path, self.threads, self.float_prefill)
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
        return await collect_result(self.stream(model, request))

    def stream(self, model: LocalModel, request: TextRequest) -> TextEvents:
        """Start generating now (or fail at once when the queue is full); read the events later."""
        self._acquire()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        cancel = threading.Event()
        self._active.add(cancel)

        def post(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the loop is gone: nobody is listening any more
                cancel.set()

        def finish(kind: str, value: Any) -> None:
            # Free the slot before the caller hears "done", so its next call finds it free.
            self._active.discard(cancel)
            self._release()
            post(kind, value)

        self._scheduler.submit(_TextJob(self, model, request, cancel, post, finish))
        return TextEvents(queue, cancel.set)


class _TextJob:
    """One request on its way through the generation thread (see scheduler.py)."""

    def __init__(
        self,
        engine: Engine,
        model: LocalModel,
        request: TextRequest,
        cancel: threading.Event,
        post: Callable[[str, Any], None],
        finish: Callable[[str, Any], None],
    ) -> None:
        self.engine = engine
        self.model = model
        self.request = request
        self.cancel = cancel
        self.post = post
        self.finish = finish
        self.text_model: TextModel | None = None
        self.text: TextStream | None = None

    @property
    def key(self) -> str:
        return self.model.name

    def start(self) -> Decoding | None:
        try:
            return self._start()
        except BaseException as exc:  # handed to the awaiting task
            self.finish("error", exc)
            return None

    def _start(self) -> Decoding | None:
        if self.cancel.is_set():  # abandoned while waiting in the queue
            self.finish("done", TextResult("", Generation(0, finish_reason="cancelled")))
            return None
        request = self.request
        text_model: TextModel = self.engine.load(self.model)
        if request.raw:
            prompt = request.prompt or ""
        else:
            # Workers AI wraps a plain ``prompt`` in the model's chat template as a user turn.
            messages = request.messages or [{"role": "user", "content": request.prompt or ""}]
            prompt = text_model.template.render(messages)
        ids = text_model.encode(prompt)
        if len(ids) + request.params.max_tokens > MAX_CONTEXT:
            raise AIError(
                f"AiError: 5021: The input ({len(ids)} tokens) plus max_tokens exceeds the model's context window of {MAX_CONTEXT} tokens"
            )
        constraint = JsonGuide(text_model, request.schema) if request.schema else None
        self.text_model = text_model
        self.text = TextStream(text_model)
        return Decoding(
            text_model,
            ids,
            request.params,
            Generation(prompt_tokens=len(ids)),
            self.cancel,
            constraint,
            self._token,
            self._done,
        )

    def _token(self, token: int) -> None:
        assert self.text is not None
        piece = self.text.push(token)
        if piece:
            self.post("piece", piece)

    def _done(self, seq: Decoding) -> None:
        if seq.error is not None:
            self.finish("error", seq.error)
            return
        assert self.text is not None and self.text_model is not None
        rest = self.text.flush()
        if rest:
            self.post("piece", rest)
        text = self.text_model.decode(seq.state.token_ids)
        self.finish("done", TextResult(text, seq.state))


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine, shared by every AI binding (and worker) in this process."""
    global _engine
    with _engine_lock:
        if _engine is None:
            pending = _env_int("WRANGLERPY_AI_MAX_PENDING", DEFAULT_MAX_PENDING)
            threads = _env_int("WRANGLERPY_AI_THREADS", default_threads())
            batch = _env_int("WRANGLERPY_AI_MAX_BATCH", DEFAULT_MAX_BATCH)
            _engine = Engine(
                threads=threads,
                max_pending=pending,
                max_batch=batch,
                float_prefill=float_prefill_enabled(),
            )
            # Interpreter exit joins executor threads before atexit handlers run; stop generating
            # first so a worker restart does not wait for max_tokens.
            register = getattr(threading, "_register_atexit", None)
            if register is not None:
                register(_engine.cancel_all)
        return _engine


def default_threads(cpus: int | None = None) -> int:
    """onnxruntime intra-op threads per session.

    On 2 cores one thread beat two spinning ones by 2-3x under load (the study); bigger
    machines get half their cores (other workers and the event loop need the rest), at most 4.
    """
    count = cpus if cpus is not None else (os.cpu_count() or 1)
    return 1 if count <= 2 else min(4, count // 2)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AIError(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise AIError(f"{name} must be at least 1, got {value}")
    return value
