"""Durable Objects as actors, without a cluster: ``ObjectActor`` built in this process with
the primary's class behind a stand-in handle. Storage is saved to the primary before a result
leaves, a new instance (as on another node, in a fresh folder) starts from what was saved,
and a replaced instance can no longer save (its epoch is fenced)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray")  # the object actor raises and catches Ray's own errors

from tests.ray.conftest import make_replica  # noqa: E402
from wranglerpy.bindings import durable_objects  # noqa: E402
from wranglerpy.bindings.durable_objects.errors import Error  # noqa: E402
from wranglerpy.bindings.durable_objects.ids import IdFactory, unique_key  # noqa: E402
from wranglerpy.bindings.durable_objects.routing import decode_result, encode_call, encode_fetch  # noqa: E402
from wranglerpy.ray.object_images import ObjectImages, object_key  # noqa: E402
from wranglerpy.ray.objects import ObjectActor, ObjectTarget, RayRouter  # noqa: E402
from wranglerpy.ray.primary import StatePrimary  # noqa: E402

COUNTER = """
from workers import DurableObject, Response, WorkerEntrypoint


class Counter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.constructed = True

    async def increment(self, by=1):
        value = (self.ctx.storage.kv.get("n") or 0) + by
        self.ctx.storage.kv.put("n", value)
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (v INTEGER)")
        self.ctx.storage.sql.exec("INSERT INTO log VALUES (?)", value)
        return value

    async def read(self):
        rows = self.ctx.storage.sql.exec("SELECT count(*) AS c FROM log").one()
        return {"n": self.ctx.storage.kv.get("n"), "log": rows["c"], "var": self.env.GREETING}

    async def arm(self, when):
        await self.ctx.storage.setAlarm(when)

    async def fetch(self, request):
        return Response("n=" + str(self.ctx.storage.kv.get("n")))

    async def alarm(self, info=None):
        self.ctx.storage.kv.put("alarmed", True)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("ok")
"""
TOML = """
[vars]
GREETING = "hi"

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
"""


class StandInPrimary:
    """``primary.method.remote(...)`` returns a finished future, as a Ray ObjectRef resolves."""

    def __init__(self, target: StatePrimary) -> None:
        self.target = target

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.target, name)

        class Remote:
            def remote(_, *args: Any) -> asyncio.Future:
                future = asyncio.get_running_loop().create_future()
                future.set_result(method(*args))
                return future

        return Remote()


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder, spec = make_replica(tmp_path, COUNTER, TOML, name="rooms")
    monkeypatch.chdir(folder)
    yield ObjectTarget("rooms", "v1", spec, str(folder))
    durable_objects.route_through(None)
    durable_objects._HOSTS.pop("rooms", None)  # noqa: SLF001 - the process-wide host


@pytest.fixture
def primary(tmp_path: Path) -> StandInPrimary:
    return StandInPrimary(StatePrimary(str(tmp_path / "primary")))


def counter_id(name: str) -> str:
    return IdFactory(unique_key("rooms", "Counter")).from_name(name).toString()


def instance(target: ObjectTarget, primary: StandInPrimary, name: str = "a") -> ObjectActor:
    return ObjectActor(asdict(target), "Counter", counter_id(name), name, primary=primary)


async def rpc(actor: ObjectActor, method: str, *args: Any) -> Any:
    return decode_result(await actor.call(encode_call(method, list(args), {})))


async def test_a_new_instance_starts_from_the_storage_the_lost_one_saved(target, primary):
    first = instance(target, primary)
    assert await rpc(first, "increment") == 1
    assert await rpc(first, "increment", 4) == 5
    # The first instance's node is lost: its folder with it. A new one opens elsewhere.
    second = instance(target, primary)
    assert second.root != first.root
    assert await rpc(second, "read") == {"n": 5, "log": 2, "var": "hi"}
    status, _, body = decode_result(await second.call(encode_fetch("GET", "https://do/", [], b"")))
    assert (status, body) == (200, b"n=5")
    # The replaced instance is fenced: its answer is an error, and it saves nothing.
    with pytest.raises(Exception, match="newer instance") as fenced:
        await rpc(first, "increment")
    assert type(fenced.value).__name__ == "Error"  # a JS Error on the caller's side
    assert await rpc(second, "increment") == 6


async def test_an_alarm_set_in_a_lost_instance_is_run_by_the_next(target, primary):
    first = instance(target, primary)
    await rpc(first, "arm", 4_102_444_800_000)  # far ahead: it must be kept, not run
    second = instance(target, primary)
    namespace = unique_key("rooms", "Counter")
    assert second.host.metadata.get_alarm(namespace, counter_id("a")) == 4_102_444_800_000
    assert not second.idle()  # an object with an alarm stays
    stored = primary.target.objects.conn.execute("SELECT alarm_ms FROM objects").fetchone()
    assert stored == (4_102_444_800_000,)


async def test_a_read_saves_nothing_and_objects_are_separate(target, primary):
    a = instance(target, primary, "a")
    b = instance(target, primary, "b")
    await rpc(a, "increment")
    saved = primary.target.objects.conn.execute("SELECT saved_at FROM objects").fetchall()
    await rpc(a, "read")
    assert primary.target.objects.conn.execute("SELECT saved_at FROM objects").fetchall() == saved
    assert await rpc(b, "increment") == 1  # its own storage, not a's


def test_epochs_fence_older_instances_and_targets_round_trip(tmp_path: Path):
    images = ObjectImages(tmp_path)
    key = object_key("w-C", "ab")
    assert images.open(key, "actor-v1") == (1, None, None, None)
    assert images.save(key, 1, b"s1", None, None)
    assert images.open(key, "actor-v2") == (2, b"s1", None, "actor-v1")
    assert not images.save(key, 1, b"stale", None, None)
    assert images.open(key)[1] == b"s1"
    target = ObjectTarget("w", "v9", "spec", "/src", {"S": "svc"}, {"working_dir": "gcs://x"})
    images.set_target("w", asdict(target))
    assert ObjectTarget(**images.target("w")) == target
    assert images.target("other") is None
    images.close()


async def test_the_router_names_an_error_for_an_undeployed_worker(monkeypatch):
    class NoTargets:
        class object_target:  # noqa: N801 - a stand-in's method
            @staticmethod
            async def remote(worker):
                return None

    monkeypatch.setattr("wranglerpy.ray.primary.primary_actor", lambda: NoTargets())
    router = RayRouter()
    from wranglerpy.bindings.durable_objects.routing import ObjectAddress

    with pytest.raises(Error, match='worker "elsewhere" are not deployed'):
        await router.send("elsewhere", ObjectAddress("elsewhere", "C", "ab"), b"")


class FlakyHandle:
    """An actor handle whose ``call`` fails with ``error`` (once), then answers."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error
        self.calls = 0

    @property
    def call(self) -> FlakyHandle:
        return self

    async def _answer(self) -> bytes:
        self.calls += 1
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return b"answer"

    def remote(self, call: bytes, trace: Any) -> Any:
        return self._answer()


@pytest.mark.parametrize(
    ("message", "retried"),
    [
        # Ray's words for an actor that left by exit_actor() (an idle object): never ran.
        ("Worker exit type: INTENDED_USER_EXIT ... exit_actor() is called.", True),
        ("The actor died unexpectedly before finishing this task.", False),
    ],
)
async def test_only_a_call_to_an_instance_that_had_left_is_sent_again(message, retried):
    from ray.exceptions import RayActorError

    from wranglerpy.bindings.durable_objects.routing import ObjectAddress

    handle = FlakyHandle(RayActorError(error_msg=message))
    router = RayRouter(ObjectTarget("w", "v1", "spec", "/src"))
    router._handle = lambda name, target, address: handle  # type: ignore[method-assign]
    address = ObjectAddress("w", "C", "ab" * 32)
    if retried:
        assert await router.send("w", address, b"call") == b"answer"
        assert handle.calls == 2
    else:
        with pytest.raises(Error, match="was reset: the node running it went away"):
            await router.send("w", address, b"call")
        assert handle.calls == 1


async def test_the_objects_events_get_the_workers_limits(tmp_path, monkeypatch, primary):
    folder, spec = make_replica(tmp_path, COUNTER, TOML + "\n[limits]\ncpu_ms = 50\n", "rooms")
    monkeypatch.chdir(folder)
    try:
        actor = instance(ObjectTarget("rooms", "v1", spec, str(folder)), primary)
        assert actor.host.limits.cpu_ms == 50
    finally:
        durable_objects.route_through(None)
        durable_objects._HOSTS.pop("rooms", None)  # noqa: SLF001
