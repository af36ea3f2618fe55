"""Requests answered while `dev` starts are logged after the ready banner, not before it."""

from __future__ import annotations

from typing import Any

from wranglerpy.supervisor.session import StartupGate


def test_request_lines_wait_for_the_banner_and_keep_their_order() -> None:
    printed: list[dict[str, Any]] = []
    gate = StartupGate(printed.append)
    gate({"type": "request", "path": "/a"})
    gate({"type": "log", "message": "worker output shows at once"})
    gate({"type": "request", "path": "/b"})
    gate({"type": "system", "message": "Ready in 0.3 s"})
    assert [e["type"] for e in printed] == ["log", "system"]
    gate.release()
    gate({"type": "request", "path": "/c"})
    assert [e.get("path") for e in printed[2:]] == ["/a", "/b", "/c"]
