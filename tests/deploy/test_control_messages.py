"""The edge's control requests and answers: typed both ways, and a clear error for anything
else."""

from __future__ import annotations

from typing import Any

import pytest

from wranglerpy.deploy.control_messages import (
    DeployAnswer,
    DeployRequest,
    EdgeState,
    StatusRequest,
    TriggerAnswer,
    TriggerRequest,
    WorkerState,
    decode_request,
    encode_request,
)
from wranglerpy.errors import DeployError
from wranglerpy.services.info import ServicesInfo
from wranglerpy.wire import frames
from wranglerpy.wire.frames import ControlHead


def over_the_wire(head: ControlHead) -> ControlHead:
    """``head`` as the daemon reads it: encoded as a frame, then decoded."""
    encoded = head.encode()
    decoded = frames.decode_head(encoded[4], encoded[5:])
    assert isinstance(decoded, ControlHead)
    return decoded


@pytest.mark.parametrize(
    "request_",
    [
        StatusRequest(),
        DeployRequest("abc", "why", "rollback"),
        DeployRequest("a", versions=[["a", 60.0], ["b", 40.0]]),
        TriggerRequest("api", None),
    ],
)
def test_requests_round_trip(request_: Any) -> None:
    head = encode_request(request_, deadline=123.5)
    assert head.KIND == frames.CONTROL and head.op == request_.OP and head.deadline == 123.5
    assert decode_request(over_the_wire(head)) == request_


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (ControlHead(op="reboot"), "unknown control operation 'reboot'"),
        (ControlHead(op=7), "unknown control operation 7"),  # type: ignore[arg-type]
        (ControlHead(op="deploy"), "bad deploy request: .*version"),
        (ControlHead(op="deploy", fields=["x"]), "bad deploy request: its fields are not a map"),  # type: ignore[arg-type]
        (ControlHead(op="scheduled", fields={"worker": ["x"]}), "worker is not a str$"),
        (ControlHead(op="deploy", fields={"version": "v", "versions": 3}), "versions is not"),
    ],
)
def test_a_bad_request_is_a_deploy_error(head: ControlHead, message: str) -> None:
    with pytest.raises(DeployError, match=message):
        decode_request(head)


def test_unknown_fields_are_ignored() -> None:
    """A newer CLI may send a field this daemon does not know: the request still runs."""
    head = ControlHead(op="scheduled", fields={"worker": "api", "cron": None, "later": 1})
    assert decode_request(head) == TriggerRequest("api", None)


def through_cbor(answer: dict[str, Any]) -> Any:
    return frames.loads(frames.dumps(answer))  # as a RESULT's value travels


def test_edge_state_round_trips_through_its_answer() -> None:
    state = EdgeState(
        1, "127.0.0.1", 8080, workers={"api": WorkerState("v1", [["v1", 100.0]], [10], "u")}
    )
    assert EdgeState.from_answer(through_cbor(state.to_answer())) == state


def test_edge_state_carries_its_services_and_processes_typed() -> None:
    services = ServicesInfo("running", port=45123, s3_url="http://127.0.0.1:45123")
    state = EdgeState(1, "127.0.0.1", 8080, processes=3, services=services)
    answer = through_cbor(state.to_answer())
    assert EdgeState.from_answer(answer) == state
    assert EdgeState.from_answer({**answer, "services": None}).services is None
    # A daemon of an older version answers without them.
    older = {k: v for k, v in answer.items() if k not in ("services", "processes")}
    assert EdgeState.from_answer(older) == EdgeState(1, "127.0.0.1", 8080)


def test_a_deploy_answer_carries_the_state_after_it() -> None:
    state = EdgeState(1, "127.0.0.1", 8080, workers={"api": WorkerState("v2")})
    answer = DeployAnswer("d1", 0.25, state)
    assert DeployAnswer.from_answer(through_cbor(answer.to_answer())) == answer


def test_a_trigger_answer_names_the_cron_it_ran() -> None:
    answer = TriggerAnswer("*/5 * * * *")
    assert TriggerAnswer.from_answer(through_cbor(answer.to_answer())) == answer
    assert TriggerAnswer.from_answer({"cron": None}) == TriggerAnswer("")
