"""The edge's control requests: typed both ways, and a clear error for anything else."""

from __future__ import annotations

import json

import pytest

from wranglerpy.deploy.control_messages import (
    DeployAnswer,
    DeployRequest,
    EdgeState,
    StatusRequest,
    TriggerRequest,
    WorkerState,
    decode_request,
    encode_request,
)
from wranglerpy.errors import DeployError
from wranglerpy.services.info import ServicesInfo


@pytest.mark.parametrize(
    "request_",
    [StatusRequest(), DeployRequest("abc", "why", "rollback"), TriggerRequest("api", None)],
)
def test_requests_round_trip(request_: object) -> None:
    assert decode_request(encode_request(request_)) == request_  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "not a JSON object"),
        ({"op": "reboot"}, "unknown control operation 'reboot'"),
        ({"op": "deploy"}, "bad deploy request"),
    ],
)
def test_a_bad_request_is_a_deploy_error(data: object, message: str) -> None:
    with pytest.raises(DeployError, match=message):
        decode_request(data)


def test_edge_state_round_trips_through_its_answer() -> None:
    state = EdgeState(
        1, "127.0.0.1", 8080, workers={"api": WorkerState("v1", [["v1", 100.0]], [10], "u")}
    )
    assert EdgeState.from_answer({"ok": True, **state.to_answer()}) == state


def test_edge_state_carries_its_services_and_processes_typed() -> None:
    services = ServicesInfo("running", port=45123, s3_url="http://127.0.0.1:45123")
    state = EdgeState(1, "127.0.0.1", 8080, processes=3, services=services)
    answer = json.loads(json.dumps({"ok": True, **state.to_answer()}))  # as it travels
    assert EdgeState.from_answer(answer) == state
    assert EdgeState.from_answer({**answer, "services": None}).services is None
    # A daemon of an older version answers without them.
    older = {k: v for k, v in answer.items() if k not in ("services", "processes")}
    assert EdgeState.from_answer(older) == EdgeState(1, "127.0.0.1", 8080)


def test_a_deploy_answer_is_read_with_the_state_after_it() -> None:
    state = EdgeState(1, "127.0.0.1", 8080, workers={"api": WorkerState("v2")})
    answer = {"ok": True, "deployment": "d1", "seconds": 0.25, **state.to_answer()}
    assert DeployAnswer.from_answer(answer) == DeployAnswer("d1", 0.25, state)
