"""The event feed on its own: a real tail server and log hub, events numbered and kept in a
bounded ring, streams that get the backlog and then what follows, and huge texts cut."""

from __future__ import annotations

import asyncio
from pathlib import Path

from wranglerpy.logs.hub import LogHub
from wranglerpy.logs.tail_server import TailServer
from wranglerpy.services.dashboard.feed import MAX_LOGS, EventFeed, trim


def test_events_are_numbered_kept_and_streamed() -> None:
    feed = EventFeed(None, kept=3)
    for i in range(5):
        feed.publish({"type": "log", "message": str(i)})
    assert [e["seq"] for e in feed.events] == [3, 4, 5]
    assert [e["message"] for e in feed.since(3, 10)] == ["3", "4"]
    backlog, queue = feed.open_stream(4)
    assert [e["seq"] for e in backlog] == [5]
    feed.publish({"type": "log", "message": "next"})
    assert queue.get_nowait()["seq"] == 6
    feed.end_streams()
    assert queue.get_nowait() is None
    feed.close_stream(queue)


def test_trim_bounds_logs_and_texts() -> None:
    event = {
        "type": "request",
        "logs": [{"message": ["x" * 10_000, 3]}] * (MAX_LOGS + 5),
        "exceptions": [{"stack": "y" * 10_000}],
    }
    out = trim(event)
    assert len(out["logs"]) == MAX_LOGS and out["logs_dropped"] == 5
    assert (
        out["logs"][0]["message"][0].endswith("(10000 chars)") and out["logs"][0]["message"][1] == 3
    )
    assert len(out["exceptions"][0]["stack"]) < 5000


def test_the_feed_follows_a_tail_server_and_waits_for_it(tmp_path: Path) -> None:
    async def main() -> None:
        path = tmp_path / "tail.sock"
        feed = EventFeed(path)
        feed.start()  # before the server exists: it retries
        hub = LogHub()
        server = TailServer(hub, path)
        await server.start()
        _, queue = feed.open_stream(0)
        await feed.ready()
        assert feed.connected
        hub.publish({"type": "request", "worker": "w", "path": "/x"})
        hub.publish({"type": "internal"})  # not a tailed type: never reaches the feed
        hub.system("hello")
        first = await asyncio.wait_for(queue.get(), 30)
        second = await asyncio.wait_for(queue.get(), 30)
        assert first is not None and first["path"] == "/x" and first["seq"] == 1
        assert second is not None and second["message"] == "hello"
        await server.close()
        await feed.stop()

    asyncio.run(main())
