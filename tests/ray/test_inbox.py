"""Long request bodies stream into a replica's call through the caller's inbox
(``ray/inbox.py``) instead of travelling whole as the call's argument; short ones still go
whole. A real worker replica reads them; the handle and the inbox actor are stand-ins that
call their classes as Ray would."""

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator

import pytest

from wranglerpy.ray import handles
from wranglerpy.ray.handles import BodyTooLarge, HandleClient
from wranglerpy.ray.inbox import CHUNK, Inbox
from wranglerpy.wire.frames import FetchHead

from .conftest import StandInHandle, StandInInbox

DIGEST = """
import asyncio
import hashlib
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        body = bytes(await request.bytes())
        return Response(f"{len(body)} {hashlib.sha256(body).hexdigest()}")
"""


async def chunks(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture
def client(replica_for) -> HandleClient:
    return HandleClient("digest", StandInHandle(replica_for(DIGEST)), inbox=StandInInbox())


def post() -> FetchHead:
    return FetchHead(method="POST", url="http://digest.localhost/", headers=[], client="127.0.0.1")


async def test_a_long_body_streams_through_the_inbox_in_mb_items(client: HandleClient) -> None:
    data = os.urandom(3 * CHUNK + 12345)
    answer = await client.fetch(post(), stream=chunks(data))
    body = answer.body if answer.body is not None else await answer.read_all()
    assert body.decode() == f"{len(data)} {hashlib.sha256(data).hexdigest()}"
    assert answer.uploading
    assert client.inbox.puts == 5  # four items of about 1 MB, then the end
    assert client.inbox.inbox.connections() == 0


async def test_a_short_body_goes_whole_with_the_call(client: HandleClient) -> None:
    data = b"x" * 1000
    answer = await client.fetch(post(), stream=chunks(data, 100))
    assert answer.body == f"1000 {hashlib.sha256(data).hexdigest()}".encode()
    assert not answer.uploading and client.inbox.puts == 0


async def test_a_body_over_the_limit_fails_the_fetch(
    client: HandleClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handles, "MAX_BODY", 2 * CHUNK)
    with pytest.raises(BodyTooLarge):
        await client.fetch(post(), stream=chunks(os.urandom(3 * CHUNK)))


async def test_dropping_a_connection_ends_the_take_waiting_on_it() -> None:
    inbox = Inbox()
    waiting = asyncio.ensure_future(inbox.take("c"))
    await asyncio.sleep(0)  # the taker waits on the connection's queue
    inbox.drop("c")
    assert await waiting == [None]
    assert inbox.connections() == 0
