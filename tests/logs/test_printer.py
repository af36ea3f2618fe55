import io
import json

from wranglerpy.logs.hub import LogHub, QueueSubscriber
from wranglerpy.logs.printer import Printer


def make(**kwargs):
    stream = io.StringIO()
    printer = Printer(stream=stream, colour=False, **kwargs)
    printer.add_worker("api")
    printer.add_worker("inference-ui-streaming")
    return printer, stream


def test_request_line_prefixed_and_aligned():
    printer, stream = make()
    printer(
        {
            "type": "request",
            "worker": "api",
            "method": "POST",
            "path": "/stream/chat",
            "status": 200,
            "duration_ms": 412.4,
        }
    )
    assert stream.getvalue() == "api                    │ POST /stream/chat 200 OK (412 ms)\n"


def test_multiline_messages_keep_the_prefix_on_every_line():
    printer, stream = make()
    printer({"type": "log", "worker": "api", "level": "error", "message": "Traceback\n  line"})
    assert stream.getvalue().splitlines() == [
        "api                    │ Traceback",
        "api                    │   line",
    ]


def test_level_threshold_and_system_messages_always_shown():
    printer, stream = make(log_level="warn")
    printer({"type": "log", "worker": "api", "level": "log", "message": "hidden"})
    printer({"type": "log", "worker": "api", "level": "warn", "message": "shown"})
    printer({"type": "system", "worker": None, "message": "Ready"})
    assert "hidden" not in stream.getvalue()
    assert "shown" in stream.getvalue() and "Ready" in stream.getvalue()


def test_json_format_is_one_object_per_line_without_headers():
    printer, stream = make(log_format="json")
    printer({"type": "request", "worker": "api", "status": 201, "headers": {"a": "b"}})
    event = json.loads(stream.getvalue())
    assert event["status"] == 201 and "headers" not in event


def test_colour_only_when_asked():
    stream = io.StringIO()
    printer = Printer(stream=stream, colour=True)
    printer.add_worker("api")
    printer({"type": "request", "worker": "api", "method": "GET", "path": "/", "status": 500})
    assert "\x1b[31m500 Internal Server Error\x1b[0m" in stream.getvalue()


async def test_hub_fans_out_and_drops_a_broken_subscriber():
    hub = LogHub()
    queue = QueueSubscriber()
    calls = []

    def broken(event):
        raise RuntimeError("boom")

    hub.subscribe(broken)
    hub.subscribe(queue)
    unsubscribe = hub.subscribe(calls.append)
    hub.system("one")
    unsubscribe()
    hub.system("two")
    assert [e["message"] for e in calls] == ["one"]
    assert queue.queue.qsize() == 2
