"""The object host: one instance per id, input/output gates, eviction, abort, RPC and fetch."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

import pytest

from tests.bindings.durable_objects.conftest import MakeHost, namespace
from wranglerpy.bindings.durable_objects.errors import Error
from wranglerpy.bindings.durable_objects.paths import object_file
from wranglerpy.runtime.entrypoint import DurableObject
from wranglerpy.runtime.request_response import Request, Response

constructed: list[str] = []
INIT_STARTED = asyncio.Event()
INIT_RELEASE = asyncio.Event()


class QuotaError(Exception):
    pass


class Counter(DurableObject):
    def __init__(self, ctx, env):  # type: ignore[no-untyped-def]
        super().__init__(ctx, env)
        constructed.append(ctx.id.toString())
        self.seen: list[int] = []

    async def increment(self) -> int:
        value = (await self.ctx.storage.get("n")) or 0
        await self.ctx.storage.put("n", value + 1)  # no other event can run between get and put
        return value + 1

    async def remember(self, items: list[int]) -> list[int]:
        items.append(99)  # the caller's list must not change
        self.seen = items
        return self.seen

    def fail(self) -> None:
        raise QuotaError("over quota")

    async def slow_init(self) -> str:
        async def init() -> None:
            INIT_STARTED.set()
            await INIT_RELEASE.wait()
            self.seen.append(1)

        await self.ctx.blockConcurrencyWhile(init)
        return "ready"

    async def peek(self) -> list[int]:
        return self.seen

    async def reset(self) -> None:
        await self.ctx.storage.put("n", 1000)
        self.ctx.abort("reset requested")

    async def fetch(self, request: Request) -> Response:
        return Response(f"{request.method} {self.ctx.id.name}")


async def test_one_instance_per_id_and_no_lost_updates(make_host: MakeHost) -> None:
    host = make_host(Counter)
    ns = namespace(host, "Counter")
    constructed.clear()
    stubs = [ns.get(ns.idFromName("a")) for _ in range(3)]
    results = await asyncio.gather(*(s.increment() for s in stubs for _ in range(20)))
    assert sorted(results) == list(range(1, 61))  # the input gate: increments never interleave
    assert constructed == [ns.idFromName("a").toString()]
    assert await ns.getByName("b").increment() == 1


async def test_rpc_copies_values_and_keeps_exception_types(make_host: MakeHost) -> None:
    host = make_host(Counter)
    stub = namespace(host, "Counter").getByName("x")
    mine = [1, 2]
    result = await stub.remember(mine)
    assert mine == [1, 2] and result == [1, 2, 99]
    result.append(5)
    assert await stub.peek() == [1, 2, 99]
    with pytest.raises(QuotaError, match="over quota"):
        await stub.fail()
    with pytest.raises(TypeError, match='The RPC receiver does not implement the method "nope".'):
        await stub.nope()
    with pytest.raises(TypeError, match="<class 'tuple'> cannot be sent over RPC."):
        await stub.remember((1, 2))


async def test_stub_fetch_reaches_the_objects_fetch(make_host: MakeHost) -> None:
    host = make_host(Counter)
    stub = namespace(host, "Counter").getByName("room")
    response = await stub.fetch("http://do/anything", method="POST")
    assert await response.text() == "POST room"


async def test_block_concurrency_while_holds_other_events(make_host: MakeHost) -> None:
    host = make_host(Counter)
    stub = namespace(host, "Counter").getByName("g")
    INIT_STARTED.clear()
    INIT_RELEASE.clear()
    init = asyncio.ensure_future(stub.slow_init())
    await INIT_STARTED.wait()  # the gate is closed and init awaits something else
    peek = asyncio.ensure_future(stub.peek())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not peek.done()  # held at the input gate
    INIT_RELEASE.set()
    assert await init == "ready"
    assert await peek == [1]


async def test_results_leave_after_writes_are_durable(make_host: MakeHost, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The output gate: once a call returns, another connection sees its write."""
    host = make_host(Counter)
    ns = namespace(host, "Counter")
    object_id = ns.idFromName("durable")
    await ns.get(object_id).increment()
    path = object_file(tmp_path, "w-Counter", object_id.toString())
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT count(*) FROM _cf_KV").fetchone()[0] == 1


async def test_eviction_drops_memory_but_keeps_storage(make_host: MakeHost) -> None:
    host = make_host(Counter, idle_timeout=0.0)
    stub = namespace(host, "Counter").getByName("e")
    constructed.clear()
    await stub.remember([7])
    assert await stub.increment() == 1
    assert host.evict_idle() == 1 and not host.live
    assert await stub.peek() == []  # a fresh instance: memory is gone
    assert await stub.increment() == 2  # storage is not
    assert len(constructed) == 2


async def test_abort_resets_the_object_and_drops_unflushed_writes(make_host: MakeHost) -> None:
    host = make_host(Counter)
    stub = namespace(host, "Counter").getByName("r")
    assert await stub.increment() == 1
    with pytest.raises(Error, match="reset requested"):
        await stub.reset()
    assert not host.live
    assert await stub.increment() == 2


async def test_ids_of_another_namespace_or_jurisdiction_are_refused(make_host: MakeHost) -> None:
    host = make_host(Counter)
    ns = namespace(host, "Counter")
    eu = ns.jurisdiction("eu")
    eu_id = eu.idFromName("a")
    assert eu_id.jurisdiction == "eu" and eu_id.toString() != ns.idFromName("a").toString()
    with pytest.raises(TypeError, match="different jurisdiction"):
        ns.get(eu_id)
    assert await eu.get(eu_id).increment() == 1


class Echo(DurableObject):
    async def open(self) -> None:
        from wranglerpy.runtime.websocket import WebSocketPair

        client, server = WebSocketPair.new().object_values()
        server.accept()
        client.accept()
        self.client = client

        async def on_message(event: object) -> None:
            await self.ctx.storage.put("last", event.data)  # type: ignore[attr-defined]

        server.addEventListener("message", on_message)
        self.server = server

    async def say(self, text: str) -> None:
        self.client.send(text)

    async def hang_up(self) -> None:
        self.server.close(1000, "bye")
        self.client.close(1000, "bye")


async def test_a_socket_accepted_in_an_object_keeps_it_in_memory(make_host: MakeHost) -> None:
    host = make_host(Echo, idle_timeout=0.0)
    stub = namespace(host, "Echo").getByName("e")
    await stub.open()
    assert host.evict_idle() == 0  # the open socket's listeners live in this instance
    await stub.say("hi")
    await stub.hang_up()
    assert host.evict_idle() == 1


async def test_events_name_the_class_and_object_for_tail(make_host: MakeHost) -> None:
    from wranglerpy.logs.tail_format import to_tail_event

    events: list[dict[str, object]] = []
    host = make_host(Counter, emit=events.append)
    stub = namespace(host, "Counter").getByName("t")
    await stub.increment()
    with pytest.raises(QuotaError):
        await stub.fail()
    await host.stop()  # events are reported in batches, a moment after the results; stop() flushes
    tail = [to_tail_event(e) for e in events]
    assert [t["event"] for t in tail] == [{"rpcMethod": "increment"}, {"rpcMethod": "fail"}]
    assert {t["entrypoint"] for t in tail} == {"Counter"}
    assert tail[0]["durableObjectId"] == stub.id.toString()
    assert [t["outcome"] for t in tail] == ["ok", "exception"]
