"""The OpenAI-compatible API over the local Workers AI models, as an ASGI app.

Every call goes through the AI binding's ``run`` (what ``env.AI.run`` is in a worker), so the
inputs are checked and the model is run exactly as for worker code. Any bearer token is
accepted: Cloudflare wants an API token there, locally there is nothing to protect.
"""

from __future__ import annotations

import base64
import json
import logging
from array import array
from typing import Any

from wranglerpy.errors import WranglerError
from wranglerpy.services.asgi import (
    BodyTooLarge,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    send_response,
)
from wranglerpy.services.openai import generate
from wranglerpy.services.openai import requests as req
from wranglerpy.services.openai.wire import SSE, OpenAIError, json_response, new_id, now

log = logging.getLogger("wranglerpy.services.openai")
MAX_BODY = 8 * 1024 * 1024


class OpenAIApp:
    """``ai``: the AI binding object (``run(model, inputs)``); built on first use when None."""

    def __init__(self, overrides: tuple[tuple[str, str], ...] = (), ai: Any = None) -> None:
        self._overrides = overrides
        self._ai = ai

    def _binding(self) -> Any:
        if self._ai is None:
            from wranglerpy.ai.models import ModelTable

            try:
                from wranglerpy.ai.binding import AI
            except WranglerError as exc:  # the ai extra is missing: say how to get it
                raise OpenAIError(503, exc.message, kind="server_error") from None
            self._ai = AI(ModelTable(self._overrides))
        return self._ai

    def _table(self) -> Any:
        from wranglerpy.ai.models import ModelTable

        return ModelTable(self._overrides)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request.from_scope(scope, receive)
        try:
            response = await self.route(request)
        except OpenAIError as error:
            response = error.response()
        except BodyTooLarge:
            response = OpenAIError(413, "request body too large").response()
        except WranglerError as exc:  # the binding's AiError, with Workers AI's wording
            response = _ai_error(exc.message).response()
        except ConnectionError:
            return
        except Exception:  # noqa: BLE001 - one failed request must not take the server down
            log.exception("OpenAI API %s %s failed", request.method, request.path)
            response = OpenAIError(500, "internal error", kind="server_error").response()
        await send_response(send, response)

    async def route(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path == "/v1/models" and request.method == "GET":
            return self.list_models()
        if path.startswith("/v1/models/") and request.method == "GET":
            return self.get_model(path[len("/v1/models/") :])
        handlers = {
            "/v1/chat/completions": self.chat,
            "/v1/completions": self.completions,
            "/v1/embeddings": self.embeddings,
            "/v1/responses": self.responses,
        }
        handler = handlers.get(path)
        if handler is None:
            raise OpenAIError(404, f"Unknown request URL: {request.method} {request.path}")
        if request.method != "POST":
            raise OpenAIError(405, f"{request.path} takes POST")
        try:
            body = json.loads(await request.body(MAX_BODY))
        except ValueError:
            raise req.bad("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise req.bad("the body must be a JSON object")
        return await handler(body)

    # -- models ------------------------------------------------------------------------

    def _model_entry(self, name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": 0, "owned_by": "cloudflare"}

    def list_models(self) -> Response:
        names = sorted(self._table().table)
        return json_response({"object": "list", "data": [self._model_entry(n) for n in names]})

    def get_model(self, name: str) -> Response:
        if name not in self._table().table:
            raise OpenAIError(404, f"The model '{name}' does not exist", code="model_not_found")
        return json_response(self._model_entry(name))

    def _task(self, model: str, wanted: str) -> None:
        try:
            local = self._table().resolve(model)
        except WranglerError:
            raise OpenAIError(
                404, f"The model '{model}' does not exist", param="model", code="model_not_found"
            ) from None
        if local.task != wanted:
            raise req.bad(
                f"{model} is a {local.task} model; it cannot serve this endpoint", "model"
            )

    # -- generation --------------------------------------------------------------------

    async def chat(self, body: dict[str, Any]) -> Response:
        model = req.model_name(body)
        self._task(model, "text-generation")
        inputs = req.chat_inputs(body)
        stops = req.stop_sequences(body)
        run = self._binding().run
        ident, created = new_id("chatcmpl"), now()
        base = {"id": ident, "created": created, "model": model}
        if body.get("stream"):
            first = True

            def chunk(text: str | None, finish: str | None) -> dict[str, Any]:
                nonlocal first
                delta: dict[str, Any] = {} if text is None else {"content": text}
                if first:
                    delta = {"role": "assistant", **delta}
                    first = False
                choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                return {**base, "object": "chat.completion.chunk", "choices": [choice]}

            def usage_chunk(usage: dict[str, Any]) -> dict[str, Any]:
                return {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}

            include = (body.get("stream_options") or {}).get("include_usage")
            stream = generate.stream_chunks(
                run, model, inputs, stops, chunk, usage_chunk if include else None
            )
            return await _streaming(stream)
        text, usage, finish = await generate.complete(run, model, inputs, stops)
        message = {"role": "assistant", "content": text}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        return json_response(
            {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
        )

    async def completions(self, body: dict[str, Any]) -> Response:
        model = req.model_name(body)
        self._task(model, "text-generation")
        inputs = req.completion_inputs(body)
        stops = req.stop_sequences(body)
        run = self._binding().run
        base = {"id": new_id("cmpl"), "created": now(), "model": model, "object": "text_completion"}
        if body.get("stream"):

            def chunk(text: str | None, finish: str | None) -> dict[str, Any]:
                choice = {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}
                return {**base, "choices": [choice]}

            def usage_chunk(usage: dict[str, Any]) -> dict[str, Any]:
                return {**base, "choices": [], "usage": usage}

            include = (body.get("stream_options") or {}).get("include_usage")
            stream = generate.stream_chunks(
                run, model, inputs, stops, chunk, usage_chunk if include else None
            )
            return await _streaming(stream)
        text, usage, finish = await generate.complete(run, model, inputs, stops)
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
        return json_response({**base, "choices": [choice], "usage": usage})

    async def responses(self, body: dict[str, Any]) -> Response:
        """Workers AI serves the Responses API for its gpt-oss models; so does the binding."""
        from wranglerpy.ai.models import CLOUDFLARE_MODELS

        model = req.model_name(body)
        gpt_oss = [name for name in CLOUDFLARE_MODELS if name.startswith("@cf/openai/")]
        if model not in gpt_oss:
            raise req.bad(f"/v1/responses serves {', '.join(sorted(gpt_oss))}", "model")
        if body.get("stream"):
            raise req.bad("streaming Responses API events is not supported locally", "stream")
        allowed = ("input", "instructions", "max_output_tokens", "temperature", "top_p", "seed")
        inputs = {k: body[k] for k in allowed if body.get(k) is not None}
        return json_response(generate.plain(await self._binding().run(model, inputs)))

    async def embeddings(self, body: dict[str, Any]) -> Response:
        model = req.model_name(body)
        self._task(model, "text-embeddings")
        texts = req.embedding_texts(body)
        result = generate.plain(await self._binding().run(model, {"text": texts}))
        vectors = result["data"]
        dimensions = body.get("dimensions")
        if dimensions is not None and dimensions != len(vectors[0]):
            raise req.bad(
                f"{model} gives {len(vectors[0])} dimensions locally; dimensions={dimensions} "
                "cannot be served",
                "dimensions",
            )
        data = []
        for i, vector in enumerate(vectors):
            value: Any = vector
            if body.get("encoding_format") == "base64":
                value = base64.b64encode(array("f", vector).tobytes()).decode()
            data.append({"object": "embedding", "index": i, "embedding": value})
        # The binding reports no token count for embeddings (neither does Workers AI's run()).
        usage = {"prompt_tokens": 0, "total_tokens": 0}
        return json_response({"object": "list", "data": data, "model": model, "usage": usage})


async def _streaming(stream: Any) -> Response:
    """Start the stream now so input errors still come back as a JSON error, not as SSE."""
    iterator = stream.__aiter__()
    try:
        first = await iterator.__anext__()
    except StopAsyncIteration:
        first = b""

    async def body() -> Any:
        try:
            if first:
                yield first
            async for item in iterator:
                yield item
        finally:
            await iterator.aclose()  # a client that left stops the generation

    return Response(200, list(SSE), body())


def _ai_error(message: str) -> OpenAIError:
    if "No such model" in message:
        return OpenAIError(404, message, param="model", code="model_not_found")
    if "3040" in message:
        return OpenAIError(429, message, kind="rate_limit_error")
    return OpenAIError(400, message)
