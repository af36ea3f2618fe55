"""The control channel over the wire: the CLI's client (``EdgeStatus``, ``control.call``)
against a real ``FrameServer`` on a unix socket (``control.serve``), with a handler in place
of the daemon's."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest

from wranglerpy.deploy import control
from wranglerpy.deploy.client import EdgeStatus
from wranglerpy.deploy.control_messages import (
    ControlAnswer,
    ControlRequest,
    DeleteRequest,
    DeployAnswer,
    DeployRequest,
    EdgeState,
    StatusRequest,
    TriggerAnswer,
    TriggerRequest,
    WorkerState,
)
from wranglerpy.errors import ConfigError, DeployError
from wranglerpy.wire import frames
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import ControlHead, Result
from wranglerpy.wire.server import FrameServer

T = TypeVar("T")
STATE = EdgeState(7, "127.0.0.1", 8080, workers={"api": WorkerState("v1", [["v1", 100.0]])})


class Daemon:
    """``control.serve`` on its own event loop in a thread, as the daemon runs it."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "control.sock"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.asked: list[ControlRequest] = []
        self.answer: Callable[[ControlRequest], Awaitable[ControlAnswer]] = self._status
        self.server: FrameServer = self.run(control.serve(self.path, self._handle))

    def run(self, work: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await work

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(10)

    async def _handle(self, request: ControlRequest) -> ControlAnswer:
        self.asked.append(request)
        return await self.answer(request)

    async def _status(self, request: ControlRequest) -> ControlAnswer:
        return STATE

    def edge(self, raw: dict[str, Any] | None = None) -> EdgeStatus:
        raw = {"control_protocol": control.PROTOCOL} if raw is None else raw
        return EdgeStatus(7, "127.0.0.1", 8080, self.path, self.path.with_name("t"), raw)

    def close(self) -> None:
        self.run(self.server.close(grace=1.0))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    # A short folder: a unix socket path is limited to ~107 bytes.
    with tempfile.TemporaryDirectory(prefix="wp-ctl-") as folder:
        running = Daemon(Path(folder))
        try:
            yield running
        finally:
            running.close()


def test_each_call_round_trips_typed(daemon: Daemon) -> None:
    answers: dict[type[Any], ControlAnswer] = {
        StatusRequest: STATE,
        DeployRequest: DeployAnswer("dep-1", 0.5, STATE),
        TriggerRequest: TriggerAnswer("0 * * * *"),
        DeleteRequest: None,
    }

    async def answer(request: ControlRequest) -> ControlAnswer:
        return answers[type(request)]

    daemon.answer = answer
    edge = daemon.edge()
    assert edge.status() == STATE
    assert edge.deploy("v2", "why", "rollback", [("v2", 60.0), ("v1", 40.0)]) == DeployAnswer(
        "dep-1", 0.5, STATE
    )
    assert edge.trigger("api") == "0 * * * *"
    edge.delete("api")
    assert daemon.asked == [
        StatusRequest(),
        DeployRequest("v2", "why", "rollback", [["v2", 60.0], ["v1", 40.0]]),
        TriggerRequest("api", None),
        DeleteRequest("api"),
    ]


def test_a_daemon_side_deploy_error_arrives_as_its_message(daemon: Daemon) -> None:
    async def answer(request: ControlRequest) -> ControlAnswer:
        raise DeployError('"api" is not deployed on this edge.')

    daemon.answer = answer
    with pytest.raises(DeployError) as caught:
        daemon.edge().trigger("api")
    assert caught.value.message == '"api" is not deployed on this edge.'


def test_a_daemon_side_error_keeps_its_class(daemon: Daemon) -> None:
    async def answer(request: ControlRequest) -> ControlAnswer:
        raise ConfigError("missing main", file="wrangler.toml", key="main")

    daemon.answer = answer
    with pytest.raises(ConfigError) as caught:
        daemon.edge().status()
    assert caught.value.message == "wrangler.toml [main]: missing main"


def test_a_daemon_bug_is_one_line_naming_the_operation(
    daemon: Daemon, capsys: pytest.CaptureFixture[str]
) -> None:
    async def answer(request: ControlRequest) -> ControlAnswer:
        missing: dict[str, ControlAnswer] = {}
        return missing["nope"]

    daemon.answer = answer
    with pytest.raises(DeployError) as caught:
        daemon.edge().status()
    assert caught.value.message == "The local edge could not carry out `status`: KeyError: 'nope'"
    assert "Traceback" in capsys.readouterr().err  # the daemon's log keeps the traceback


def test_an_unknown_op_and_a_malformed_head_get_a_clear_error(daemon: Daemon) -> None:
    async def ask(payloads: list[bytes]) -> list[Result]:
        reader, writer = await asyncio.open_unix_connection(str(daemon.path))
        results = []
        try:
            for payload in payloads:  # one connection: each error leaves it usable
                writer.write(payload)
                kind, data = await frames.read_frame(reader)
                assert kind == frames.RESULT
                results.append(Result.decode(data))
        finally:
            writer.close()
            await writer.wait_closed()
        return results

    unknown, short, garbage, status = asyncio.run(
        ask(
            [
                ControlHead(op="reboot").encode(),
                frames.frame(frames.CONTROL, frames.dumps(["", None])),
                frames.frame(frames.CONTROL, b"\xff\xfe"),
                ControlHead(op="status").encode(),
            ]
        )
    )
    assert unknown == Result(False, None, "DeployError", "unknown control operation 'reboot'")
    assert short == Result(False, None, "Error", "malformed ControlHead frame")
    assert not garbage.ok and garbage.error_message.startswith("malformed frame payload")
    assert status.ok and EdgeState.from_answer(status.value) == STATE
    assert daemon.asked == [StatusRequest()]


def test_other_kinds_of_call_are_refused_there(daemon: Daemon) -> None:
    async def ask() -> Result:
        client = FrameClient(str(daemon.path))
        try:
            return await client.call(frames.ScheduledHead(cron="* * * * *"))
        finally:
            client.close()

    assert asyncio.run(ask()) == Result(
        False, None, "Error", "this worker does not serve such calls"
    )


def test_a_daemon_that_is_gone_is_named_with_its_socket() -> None:
    with tempfile.TemporaryDirectory(prefix="wp-ctl-") as folder:
        path = Path(folder) / "control.sock"
        edge = EdgeStatus(7, "127.0.0.1", 8080, path, path, {"control_protocol": control.PROTOCOL})
        with pytest.raises(DeployError, match=rf"did not answer on {path} \(.*No such file"):
            edge.status()


def test_a_daemon_that_does_not_answer_in_time_is_named(daemon: Daemon) -> None:
    release: Future[None] = Future()

    async def answer(request: ControlRequest) -> ControlAnswer:
        await asyncio.wrap_future(release)
        return STATE

    daemon.answer = answer
    try:
        with pytest.raises(DeployError, match=r"did not answer on .* \(no answer in 0.2 s\)"):
            control.call(daemon.path, StatusRequest(), timeout=0.2)
    finally:
        release.set_result(None)


def test_a_call_from_inside_a_running_event_loop(daemon: Daemon) -> None:
    """``bench/do_bench.py`` asks the edge from a coroutine: the blocking call still works."""

    async def from_a_coroutine() -> EdgeState:
        return daemon.edge().status()

    assert asyncio.run(from_a_coroutine()) == STATE


def test_an_edge_of_an_older_wranglerpy_is_named_not_waited_for(daemon: Daemon) -> None:
    with pytest.raises(DeployError, match=r"started by an older wranglerpy.*edge stop"):
        daemon.edge(raw={}).status()
    assert daemon.asked == []


def test_an_answer_that_cannot_be_read_is_one_line(daemon: Daemon) -> None:
    async def answer(request: ControlRequest) -> ControlAnswer:
        return TriggerAnswer("x")  # not an EdgeState

    daemon.answer = answer
    with pytest.raises(
        DeployError, match=r"answered `status` with something .*\(KeyError: 'pid'\)"
    ):
        daemon.edge().status()
