"""The edge's control requests: typed both ways, and a clear error for anything else."""

from __future__ import annotations

import pytest

from wranglerpy.deploy.control_messages import (
    DeployRequest,
    EdgeState,
    StatusRequest,
    TriggerRequest,
    WorkerState,
    decode_request,
    encode_request,
)
from wranglerpy.errors import DeployError


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
    state = EdgeState(1, "127.0.0.1", 8080, workers={"api": WorkerState("v1", [10], "u")})
    assert EdgeState.from_answer({"ok": True, **state.to_answer()}) == state
