"""Seams for the example's unit tests: D1 over a real SQLite file, and KV, Analytics Engine,
Workers AI and ctx fakes with the call shapes of Cloudflare Python Workers' bindings."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from wranglerpy.jsobject import JSObject, as_js_object

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inference-ui"

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class FakeStatement:
    def __init__(self, db: FakeD1, sql: str, args: tuple[Any, ...] = ()) -> None:
        self.db, self.sql, self.args = db, sql, args

    def bind(self, *args: Any) -> FakeStatement:
        return FakeStatement(self.db, self.sql, args)

    def _execute(self) -> sqlite3.Cursor:
        return self.db.conn.execute(self.sql, self.args)

    async def first(self, column: str | None = None) -> Any:
        row = self._execute().fetchone()
        if row is None:
            return None
        return row[column] if column else as_js_object(dict(row))

    async def all(self) -> JSObject:
        rows = [dict(r) for r in self._execute().fetchall()]
        return as_js_object({"results": rows, "success": True, "meta": {"rows_read": len(rows)}})

    async def run(self) -> JSObject:
        cursor = self._execute()
        return as_js_object(
            {
                "results": [],
                "success": True,
                "meta": {"changes": cursor.rowcount, "last_row_id": cursor.lastrowid},
            }
        )


class FakeD1:
    """D1's API over a real SQLite file (what the local D1 binding is, minus the plumbing)."""

    def __init__(self, path: Path, migrations: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA foreign_keys = ON")
        for script in sorted(migrations.glob("*.sql")):
            self.conn.executescript(script.read_text())
        self.batches = 0

    def prepare(self, sql: str) -> FakeStatement:
        return FakeStatement(self, sql)

    async def batch(self, statements: list[FakeStatement]) -> list[JSObject]:
        self.batches += 1
        self.conn.execute("BEGIN")
        try:
            results = [await s.run() for s in statements]
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return results

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(sql, args).fetchall()]

    def close(self) -> None:
        self.conn.close()


class RealD1:
    """The real local D1 binding (wranglerpy.bindings.d1), plus the same inspection helpers
    as FakeD1 (over a second SQLite connection to its file)."""

    def __init__(self, persist_dir: Path, migrations: Path) -> None:
        from wranglerpy.bindings import d1
        from wranglerpy.bindings.d1.admin import apply_migrations
        from wranglerpy.config.schema import D1Database

        config = D1Database(
            binding="DB",
            database_name="inference-ui-db",
            database_id="3f0c6e8a-6b7e-4c59-9a43-5a1d2b7e9c10",
        )
        self.binding = d1.create(config, persist_dir)
        run(apply_migrations(self.binding, migrations, config.migrations_table))
        self.conn = sqlite3.connect(self.binding.path, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.batches = 0

    def prepare(self, sql: str) -> Any:
        return self.binding.prepare(sql)

    async def batch(self, statements: list[Any]) -> list[JSObject]:
        self.batches += 1
        return await self.binding.batch(statements)

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(sql, args).fetchall()]

    def close(self) -> None:
        self.conn.close()
        self.binding.close()


class FakeKV:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.ttls: dict[str, int | None] = {}

    async def get(self, key: str, type: str = "text") -> Any:
        value = self.data.get(key)
        if value is None or type != "json":
            return value
        return as_js_object(json.loads(value))

    async def put(self, key: str, value: str, expirationTtl: int | None = None) -> None:  # noqa: N803
        self.data[key] = value
        self.ttls[key] = expirationTtl


class FakeAnalytics:
    def __init__(self) -> None:
        self.points: list[dict[str, Any]] = []

    def writeDataPoint(self, point: dict[str, Any]) -> None:  # noqa: N802
        self.points.append(point)


class FakeAIStream:
    """What a streaming ``AI.run`` returns: an async iterator of SSE bytes that can be closed."""

    def __init__(self, chunks: list[bytes], delay: float) -> None:
        self._chunks = chunks
        self._delay = delay
        self.closed = False
        self.sent = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self.closed or self.sent >= len(self._chunks):
            raise StopAsyncIteration
        if self._delay:
            await asyncio.sleep(self._delay)
        self.sent += 1
        return self._chunks[self.sent - 1]

    async def aclose(self) -> None:
        self.closed = True


def sse_chunks(pieces: list[str], usage: dict[str, int] | None = None) -> list[bytes]:
    chunks = [f"data: {json.dumps({'response': p})}\n\n".encode() for p in pieces]
    if usage is not None:
        chunks.append(f"data: {json.dumps({'response': '', 'usage': usage})}\n\n".encode())
    chunks.append(b"data: [DONE]\n\n")
    return chunks


class FakeAI:
    """Scripted Workers AI: ``pieces`` for streams, ``objects`` (answers in order) otherwise."""

    def __init__(self) -> None:
        self.pieces: list[str] = ["Hello", " there", "!"]
        self.usage: dict[str, int] | None = {"prompt_tokens": 7, "completion_tokens": 3}
        self.objects: list[Any] = []
        self.delay = 0.0
        self.fail: Exception | None = None
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.streams: list[FakeAIStream] = []

    async def run(self, model: str, inputs: dict[str, Any]) -> Any:
        self.calls.append((model, inputs))
        if self.fail is not None:
            raise self.fail
        if inputs.get("stream"):
            stream = FakeAIStream(sse_chunks(self.pieces, self.usage), self.delay)
            self.streams.append(stream)
            return stream
        return as_js_object({"response": self.objects.pop(0)})


class FakeCtx:
    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[Any]] = []

    def waitUntil(self, awaitable: Any) -> None:  # noqa: N802
        self.tasks.append(asyncio.ensure_future(awaitable))

    async def drain(self) -> None:
        for task in self.tasks:
            await task


class FakeEnv:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def make_env(db: Any, **extra: Any) -> FakeEnv:
    return FakeEnv(
        DB=db,
        KV=FakeKV(),
        ANALYTICS=FakeAnalytics(),
        AI=FakeAI(),
        ENVIRONMENT="development",
        API_VERSION="1.0.0",
        **extra,
    )


async def call_asgi(
    app: Any,
    method: str,
    path: str,
    *,
    env: Any,
    ctx: Any = None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], list[bytes]]:
    """Drive an ASGI app as the runtime does (env and ctx in the scope); the chunks as sent."""
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    raw_headers.append((b"host", b"localhost:8787"))
    if body:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    path_only, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path_only,
        "raw_path": path_only.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw_headers,
        "server": ("localhost", 8787),
        "client": ("127.0.0.1", 1234),
        "env": env,
        "ctx": ctx or FakeCtx(),
        "state": {},
    }
    sent_body = False
    # The client stays until the response is complete, then leaves, as a server reports it
    # (Quart 0.23 waits for that disconnect before its request handling returns).
    response_done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await response_done.wait()
        return {"type": "http.disconnect"}

    status = 0
    response_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            response_headers.update({k.decode().lower(): v.decode() for k, v in message["headers"]})
        elif message["type"] == "http.response.body":
            if message.get("body"):
                chunks.append(bytes(message["body"]))
            if not message.get("more_body", False):
                response_done.set()

    await app(scope, receive, send)
    return status, response_headers, chunks


def sse_events(data: bytes) -> list[dict[str, Any]]:
    """The JSON events of an SSE body."""
    events = []
    for block in data.decode().split("\n\n"):
        if block.startswith("data: "):
            events.append(json.loads(block[6:]))
    return events
