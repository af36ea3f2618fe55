"""The routing seam: a call for an object owned by another host travels as bytes and runs in
the owner's single instance (the worker host's wire will carry these bytes between processes)."""

from __future__ import annotations

import asyncio

import pytest

from tests.bindings.durable_objects.conftest import MakeHost, namespace
from wranglerpy.bindings.durable_objects.host import ObjectHost
from wranglerpy.bindings.durable_objects.routing import ObjectAddress
from wranglerpy.runtime.entrypoint import DurableObject

made: list[str] = []


class Tally(DurableObject):
    def __init__(self, ctx, env):  # type: ignore[no-untyped-def]
        super().__init__(ctx, env)
        made.append(ctx.id.name)

    async def add(self, n: int) -> dict[str, object]:
        total = (await self.ctx.storage.get("total")) or 0
        await self.ctx.storage.put("total", total + n)
        return {"total": total + n, "tags": {"x"}}

    async def boom(self) -> None:
        raise KeyError("missing")


class OwnedBy:
    def __init__(self, owner: str | None) -> None:
        self._owner = owner

    def owner(self, address: ObjectAddress) -> str | None:
        return self._owner


class Loopback:
    """Stands in for the wire: hands the bytes to the owning host."""

    def __init__(self, hosts: dict[str, ObjectHost]) -> None:
        self.hosts = hosts
        self.sent = 0

    async def send(self, owner: str, address: ObjectAddress, call: bytes) -> bytes:
        self.sent += 1
        return await self.hosts[owner].handle_call(
            address.class_name, address.object_id, address.name, call
        )


async def test_calls_for_a_remote_object_run_in_its_one_instance(make_host: MakeHost) -> None:
    made.clear()
    owner = make_host(Tally)
    courier = Loopback({"owner": owner})
    other = make_host(Tally, locator=OwnedBy("owner"), courier=courier)
    here, there = namespace(owner, "Tally").getByName("t"), namespace(other, "Tally").getByName("t")
    results = await asyncio.gather(*(s.add(1) for s in (here, there) for _ in range(10)))
    assert sorted(r["total"] for r in results) == list(range(1, 21))
    assert made == ["t"] and courier.sent == 10 and not other.live
    assert results[-1]["tags"] == {"x"}
    with pytest.raises(KeyError):
        await there.boom()
    with pytest.raises(TypeError, match='does not implement the method "_private"'):
        await there._rpc("_private", (), {})


def test_a_fetch_of_a_request_made_by_worker_code_can_be_encoded() -> None:
    """``Request.method`` is an ``HTTPMethod`` (a str subclass marshal refuses): a stub's
    fetch to an object in another process must still encode."""
    from wranglerpy.bindings.durable_objects.routing import decode_call, encode_fetch
    from wranglerpy.runtime.request_response import Request

    request = Request("https://object/", method="POST", headers={"x-a": "1"}, body=b"hi")
    call = encode_fetch(request.method, request.url, list(request.headers.items()), b"hi")
    assert decode_call(call) == ("fetch", "POST", "https://object/", [("x-a", "1")], b"hi")
