"""One model host per machine: real host processes on a unix socket, real client processes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.waits import await_until, wait_until
from wranglerpy.ai.binding import AI
from wranglerpy.ai.cache import CACHE_ENV, ModelCache
from wranglerpy.ai.client import HostClient, default_socket_path
from wranglerpy.ai.engine import Engine
from wranglerpy.ai.model_download import Progress
from wranglerpy.ai.models import MINILM, SMOLLM2, Artifact, ModelTable
from wranglerpy.errors import AIError

CHAT = "@cf/meta/llama-3.1-8b-instruct"
EMBED = "@cf/baai/bge-small-en-v1.5"
MESSAGES = [{"role": "user", "content": "the cat"}]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_cache(
    tmp_path_factory: pytest.TempPathFactory, tiny_gguf: Path, tiny_embedder_dir: Path
) -> Path:
    """A model cache holding the tiny models under the real names (what the host loads)."""
    files = {
        SMOLLM2.artifacts[0].member: tiny_gguf,
        MINILM.artifacts[0].member: tiny_embedder_dir / "model.onnx",
        MINILM.artifacts[1].member: tiny_embedder_dir / "tokenizer.json",
    }

    def fetch(artifact: Artifact, target: Path, progress: Progress | None) -> Path:
        shutil.copyfile(files[artifact.member], target)
        return target

    root = tmp_path_factory.mktemp("host-cache")
    cache = ModelCache(root, fetcher=fetch)
    cache.pull(SMOLLM2)
    cache.pull(MINILM)
    return root


def stop(pid: int) -> None:
    """Kill a host and wait until it is gone (reaped by its starter's reaper thread, or by
    init once its starter has exited)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_until(gone, f"host {pid} to die of SIGKILL")


@pytest.fixture
def client(tiny_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HostClient]:
    monkeypatch.setenv(CACHE_ENV, str(tiny_cache))
    monkeypatch.setenv("WRANGLERPY_AI_MAX_PENDING", "2")
    made = HostClient(default_socket_path(), idle_seconds=30)
    started: list[int] = []
    made_pid = made.host_pid

    async def remember() -> int:
        pid = await made_pid()
        if pid not in started:
            started.append(pid)
        return pid

    made.host_pid = remember  # type: ignore[method-assign]
    yield made
    for pid in started:
        stop(pid)


def local_answer(tiny_cache: Path) -> str:
    async def run() -> str:
        ai = AI(ModelTable(), lambda: Engine(ModelCache(tiny_cache), pull_missing=False))
        result = await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 8, "temperature": 0})
        return str(result["response"])

    return asyncio.run(run())


WORKER = """
import asyncio, json, sys
from wranglerpy.ai.binding import create
from wranglerpy.ai.client import get_host_client
from wranglerpy.config.schema import AIBinding
from pathlib import Path

async def main():
    ai = create(AIBinding(binding="AI"), Path("."))
    result = await ai.run("@cf/meta/llama-3.1-8b-instruct",
        {"messages": [{"role": "user", "content": "the cat"}], "max_tokens": 8, "temperature": 0})
    print(json.dumps({"pid": await get_host_client().host_pid(), "response": result["response"]}))

asyncio.run(main())
"""


def test_two_worker_processes_share_one_host(
    client: HostClient, tiny_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two worker processes start at once: one host starts (the lock), both are answered by it,
    with the same answer the in-process engine gives."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    pids = {o["pid"] for o in outputs}
    try:
        assert len(pids) == 1
        assert asyncio.run(client.host_pid()) in pids
        assert [o["response"] for o in outputs] == [local_answer(tiny_cache)] * 2
    finally:
        for pid in pids:
            stop(pid)


async def test_stream_complete_and_embed_through_the_host(client: HostClient) -> None:
    ai = AI(ModelTable(), lambda: client)
    inputs = {"messages": MESSAGES, "max_tokens": 8, "temperature": 0}
    plain = await ai.run(CHAT, inputs)
    stream = await ai.run(CHAT, {**inputs, "stream": True})
    events = (await stream.read_all()).decode().split("\n\n")
    assert events[-2] == "data: [DONE]"
    text = "".join(json.loads(e.removeprefix("data: "))["response"] for e in events[:-2])
    assert text == plain["response"]
    assert json.loads(events[-3].removeprefix("data: "))["usage"] == plain["usage"].to_py()
    vectors = await ai.run(EMBED, {"text": ["hello world", "bye"]})
    local = await Engine(ModelCache(Path(os.environ[CACHE_ENV]))).embed(
        MINILM, ["hello world", "bye"]
    )
    assert np.allclose(np.asarray(vectors["data"]), local)


async def test_capacity_error_and_cancel_over_the_host(client: HostClient) -> None:
    """The host's max_pending is 2 (env): a third request fails from run(), as on Cloudflare;
    closing a stream frees its place."""
    ai = AI(ModelTable(), lambda: client)
    long = {"messages": MESSAGES, "max_tokens": 300, "temperature": 1.0, "stream": True}
    streams = [await ai.run(CHAT, long) for _ in range(2)]
    with pytest.raises(AIError, match="3040: Capacity temporarily exceeded"):
        await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 1})
    await streams[0].__anext__()
    await streams[0].aclose()

    async def served() -> bool:
        try:
            await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 1})
        except AIError:
            return False
        return True

    # The closed stream's place comes back once the host hears the cancel: keep asking.
    await await_until(served, "the cancelled stream to free its place")
    await streams[1].aclose()


async def test_a_crashed_host_is_replaced_on_the_next_request(client: HostClient) -> None:
    ai = AI(ModelTable(), lambda: client)
    # The tiny model can finish a whole answer before a loaded machine gets to kill its host:
    # then there was nothing to interrupt, and the next try does it again (the error must be
    # seen at least once).
    for _ in range(3):
        first = await client.host_pid()
        stream = await ai.run(
            CHAT, {"messages": MESSAGES, "max_tokens": 300, "temperature": 1.0, "stream": True}
        )
        await stream.__anext__()
        stop(first)
        try:
            await stream.read_all()
        except AIError as exc:
            assert f"model host (pid {first}) exited" in str(exc)
            break
    else:
        pytest.fail("every answer was complete before its host was killed (3 tries)")
    result = await ai.run(CHAT, {"messages": MESSAGES, "max_tokens": 4, "temperature": 0})
    assert result["usage"]["completion_tokens"] >= 1
    assert await client.host_pid() != first


@pytest.mark.slow
async def test_real_model_through_the_host_equals_llamacpp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = ModelCache()
    if not cache.is_cached(SMOLLM2):
        pytest.skip(f"{SMOLLM2.name} is not cached; run `wranglerpy ai pull {SMOLLM2.name}`")
    ref = json.loads((Path(__file__).parent / "data" / "llamacpp-reference.json").read_text())
    case = ref["cases"]["short"]
    client = HostClient(default_socket_path(), idle_seconds=30)
    ai = AI(ModelTable(), lambda: client)
    inputs = {
        "messages": [{"role": "user", "content": case["user_message"]}],
        "temperature": 0,
        "max_tokens": len(case["output_token_ids"]),
    }
    pid = await client.host_pid()
    try:
        results = await asyncio.gather(*(ai.run(CHAT, inputs) for _ in range(3)))
        want = results[0]["response"]
        assert all(r["response"] == want for r in results)
        assert [r["usage"]["completion_tokens"] for r in results] == [128] * 3
    finally:
        stop(pid)
