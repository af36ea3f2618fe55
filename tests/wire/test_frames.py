"""Frame kinds, typed heads and their CBOR encoding."""

import asyncio
from datetime import datetime, timezone

import pytest

from wranglerpy.wire import frames
from wranglerpy.wire.frames import (
    FetchHead,
    FrameError,
    QueueHead,
    QueueMessage,
    ResponseHead,
    Result,
    RpcHead,
    ScheduledHead,
    ServiceFetchHead,
    WireValueError,
)


async def read_back(data: bytes) -> tuple[int, bytes]:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return await frames.read_frame(reader)


@pytest.mark.parametrize(
    "head",
    [
        FetchHead(method="POST", url="http://a/b?c", headers=[(b"x", b"1")], client="10.0.0.1"),
        ServiceFetchHead(url="http://t/", caller="api", entrypoint="Admin", trace="abc"),
        RpcHead(method="m", args=[1, b"\x00"], kwargs={"k": [2**80]}, deadline=12.5),
        ScheduledHead(cron="*/5 * * * *", scheduled_time=1.0e12),
        ResponseHead(status=418, headers=[(b"a", b"b")], buffered=False),
    ],
)
async def test_every_head_comes_back_as_it_went(head):
    kind, payload = await read_back(head.encode())
    assert kind == head.KIND
    back = frames.decode_head(kind, payload)
    assert type(back) is type(head)
    for name in type(head).__match_args__:
        value = getattr(back, name)
        if name == "headers":
            value = [tuple(pair) for pair in value]
        assert value == getattr(head, name)


async def test_a_queue_batch_keeps_message_bodies_and_timestamps():
    sent = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    head = QueueHead(queue="jobs", messages=[QueueMessage("m1", sent, {"n": b"\x01"}, 2)])
    kind, payload = await read_back(head.encode())
    back = frames.decode_head(kind, payload)
    assert isinstance(back, QueueHead)
    assert back.messages == [QueueMessage("m1", sent, {"n": b"\x01"}, 2)]


def test_metadata_fields_are_typed_fields_not_headers():
    head = ServiceFetchHead(url="http://t/", caller="api", entrypoint="Admin", trace="t1")
    assert (head.caller, head.entrypoint, head.trace, head.deadline) == ("api", "Admin", "t1", None)
    assert head.headers == []


def test_naive_datetimes_travel_as_utc():
    naive = datetime(2026, 1, 1, 12, 0)
    assert frames.loads(frames.dumps(naive)) == naive.replace(tzinfo=timezone.utc)


def test_a_value_without_an_encoding_is_a_wire_value_error():
    with pytest.raises(WireValueError):
        frames.dumps(object())


def test_results_keep_values_and_error_type_names():
    ok = Result.decode(Result(True, {"big": 2**70}).encode()[5:])
    err = Result.decode(Result(False, None, "QuotaExceeded", "over").encode()[5:])
    assert (ok.ok, ok.value) == (True, {"big": 2**70})
    assert (err.ok, err.error_name, err.error_message) == (False, "QuotaExceeded", "over")


def test_a_result_that_cannot_travel_becomes_a_type_error():
    back = Result.decode(Result(True, object()).encode()[5:])
    assert (back.ok, back.error_name) == (False, "TypeError")


async def test_a_reserved_kind_has_no_head_here():
    with pytest.raises(FrameError, match="no call of frame kind 0x07"):
        frames.decode_head(frames.ALARM, frames.dumps([]))


async def test_a_truncated_frame_is_a_frame_error():
    with pytest.raises(FrameError):
        await read_back(frames.frame(frames.DATA, b"abcdef")[:-2])


async def test_an_oversized_frame_is_refused_before_it_is_read():
    prefix = (frames.MAX_FRAME + 1).to_bytes(4, "big") + bytes([frames.DATA])
    with pytest.raises(FrameError, match="exceeds"):
        await read_back(prefix)


def test_a_malformed_head_is_a_frame_error():
    with pytest.raises(FrameError):
        frames.decode_head(frames.RPC, frames.dumps(["only one field"]))
