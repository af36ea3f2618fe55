"""A real services process whose dashboard reads a real persist dir (filled through the
bindings and stores themselves) and a real tail server fed by a log hub, as `dev` runs them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services.conftest import LoopThread, serve
from wranglerpy.bindings.d1 import D1DatabaseBinding, database_path
from wranglerpy.bindings.durable_objects import clone
from wranglerpy.bindings.durable_objects.ids import IdFactory, unique_key
from wranglerpy.bindings.durable_objects.paths import namespace_dir
from wranglerpy.bindings.kv import KVNamespaceBinding, namespace_path
from wranglerpy.bindings.queues import open_store as open_queues
from wranglerpy.bindings.queues.codec import encode
from wranglerpy.bindings.queues.store import NewMessage
from wranglerpy.bindings.r2 import R2BucketBinding, bucket_path
from wranglerpy.bindings.workflows import open_store as open_workflows
from wranglerpy.logs.hub import LogHub
from wranglerpy.logs.tail_server import TailServer
from wranglerpy.services.server import ServicesHandle
from wranglerpy.services.spec import ServicesSpec

HOSTILE = [
    '<img src=x onerror="alert(1)">',
    "../../etc/passwd",
    "a&b=c?d#e%2F/f",
    "emoji 🔑 and \u202e bidi",
    "line\nbreak",
]
KEYS = 130  # more than one page of 100


async def _fill(persist: Path) -> None:
    kv = KVNamespaceBinding(namespace_path(persist, "ns-1"), namespace_id="ns-1")
    for key in HOSTILE:
        await kv.put(key, f"value of {key}", metadata={"html": "<b>bold</b>"})
    for i in range(KEYS):
        await kv.put(f"bulk/{i:04d}", str(i))
    await kv.put("binary", b"\x00\xff\xfe")
    kv.close()

    db = D1DatabaseBinding(database_path(persist, "db-1"), name="main")
    await db.prepare("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)").run()
    for i in range(120):
        await db.prepare("INSERT INTO notes (body) VALUES (?)").bind(f"note {i}").run()
    await db.prepare("INSERT INTO notes (body) VALUES (?)").bind(HOSTILE[0]).run()
    db.close()

    r2 = R2BucketBinding(bucket_path(persist, "photos"), bucket_name="photos")
    await r2.put("cats/one.txt", b"meow", customMetadata={"who": "<script>x</script>"})
    await r2.put("dogs/two.txt", b"woof")
    await r2.put(HOSTILE[0], b"\x89PNG")
    r2.close()

    key = unique_key("counter-worker", "Counter")
    object_id = IdFactory(key).from_name("alice").toString()
    folder = namespace_dir(persist, key)
    folder.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(folder / f"{object_id}.sqlite") as conn:
        conn.execute("CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
        conn.execute("CREATE TABLE _cf_META (key TEXT PRIMARY KEY, value)")
        conn.execute("INSERT INTO _cf_META VALUES ('name', 'alice')")
        conn.executemany(
            "INSERT INTO _cf_KV VALUES (?, ?)",
            [("count", clone.encode(3)), (HOSTILE[0], clone.encode({"x": [1, 2]}))],
        )
    conn.close()

    queues = open_queues(persist)
    queues.enqueue(
        "jobs",
        [
            NewMessage(f"m{i}", 1_700_000_000_000, "json", encode({"n": i}, "json"))
            for i in range(3)
        ],
    )
    queues.close()
    workflows = open_workflows(persist)
    workflows.create("signup", [("inst-1", '{"email": "a@b"}')])
    workflows.close()


class Dashboard:
    def __init__(self, handle: ServicesHandle, hub: LogHub, runner: LoopThread) -> None:
        self.handle = handle
        self.hub = hub
        self.runner = runner
        self.base = handle.dashboard_url
        self.client = httpx.Client(base_url=self.base, timeout=30)

    def publish(self, event: dict[str, Any]) -> None:
        self.runner.loop.call_soon_threadsafe(self.hub.publish, event)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params)


@pytest.fixture(scope="module")
def persist(tmp_path_factory: pytest.TempPathFactory, loop_thread: LoopThread) -> Path:
    folder = tmp_path_factory.mktemp("state")
    loop_thread.run(_fill(folder))
    return folder


@pytest.fixture(scope="module")
def dashboard(
    loop_thread: LoopThread, persist: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    hub = LogHub()
    socket_path = tmp_path_factory.mktemp("run") / "tail.sock"
    tail = TailServer(hub, socket_path)
    loop_thread.run(tail.start())
    workers = (("api", (("DB", "D1 Database", "main"), ("KV", "KV Namespace", "ns-1"))),)
    spec = ServicesSpec(persist, tail_socket=str(socket_path), workers=workers)
    try:
        for handle in serve(loop_thread, spec):
            board = Dashboard(handle, hub, loop_thread)
            yield board
            board.client.close()
    finally:
        loop_thread.run(tail.close())
