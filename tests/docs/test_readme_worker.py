"""The README's "Writing workers" samples run as written under the real `wranglerpy dev`.

The code is read from README.md itself, so a sample that drifts from the runtime fails here.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.docs.readme import code_blocks, section
from tests.waits import wait_until
from wranglerpy.testing import DevServer

CALLER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/generated"):
            return await self.env.GENERATED.fetch("https://app/")
        return Response(await self.env.APP.greet("ada"))
"""

# The README's `readable(chunks)` helper, served from an async generator.
GENERATED = """

from workers import Response as _Response


async def _numbers():
    for i in range(3):
        yield f"n{i};".encode()


class Generated(WorkerEntrypoint):
    async def fetch(self, request):
        return _Response(readable(_numbers()), headers={"content-type": "text/plain"})
"""


def writing_workers_samples() -> tuple[str, str]:
    blocks = code_blocks(section("Writing workers"), "python")
    entry = next(b for b in blocks if b.startswith("# src/entry.py"))
    helper = next(b for b in blocks if "def readable(chunks)" in b)
    return entry, helper


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory):
    project = tmp_path_factory.mktemp("readme-worker")
    entry, helper = writing_workers_samples()
    (project / "src").mkdir()
    (project / "src" / "entry.py").write_text(entry + "\n\n" + helper + GENERATED)
    (project / "caller.py").write_text(CALLER)
    (project / "wrangler.toml").write_text(
        textwrap.dedent(
            """
            name = "app"
            main = "src/entry.py"
            compatibility_date = "2025-09-01"
            [vars]
            NAME = "reader"
            [[kv_namespaces]]
            binding = "KV"
            """
        )
    )
    (project / "wrangler-caller.toml").write_text(
        textwrap.dedent(
            """
            name = "caller"
            main = "caller.py"
            compatibility_date = "2025-09-01"
            [[services]]
            binding = "APP"
            service = "app"
            [[services]]
            binding = "GENERATED"
            service = "app"
            entrypoint = "Generated"
            """
        )
    )
    with DevServer(
        project / "wrangler.toml", project / "wrangler-caller.toml", cwd=project, watch=False
    ) as server:
        yield server


@pytest.mark.integration
def test_hello_answers_with_the_var(dev: DevServer) -> None:
    answer = dev.client("app").get("/")
    assert answer.status_code == 200
    assert answer.text == "Hello reader"
    assert answer.headers["content-type"].startswith("text/plain")


@pytest.mark.integration
def test_stream_sends_three_server_sent_events(dev: DevServer) -> None:
    answer = dev.client("app").get("/stream")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/event-stream"
    assert answer.text == "data: 0\n\ndata: 1\n\ndata: 2\n\n"


@pytest.mark.integration
def test_count_is_kept_in_kv_and_answers_201(dev: DevServer) -> None:
    client = dev.client("app")
    first, second = client.get("/count"), client.get("/count")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["count"] == first.json()["count"] + 1
    # waitUntil's audit() prints into dev's log (and `tail`) after the response
    wait_until(lambda: "count is now" in dev.output(), "audit()'s line in dev's log")


@pytest.mark.integration
def test_greet_is_callable_over_a_service_binding_as_rpc(dev: DevServer) -> None:
    assert dev.client("caller").get("/").text == "hi ada"


@pytest.mark.integration
def test_the_readable_helper_streams_an_async_generator(dev: DevServer) -> None:
    answer = dev.client("caller").get("/generated")
    assert answer.status_code == 200
    assert answer.text == "n0;n1;n2;"
