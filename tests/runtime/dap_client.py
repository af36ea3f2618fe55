"""A minimal Debug Adapter Protocol client (what VS Code speaks to debugpy), for tests:
``Content-Length``-framed JSON messages over a TCP socket
(https://microsoft.github.io/debug-adapter-protocol/overview#base-protocol)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

Message = dict[str, Any]
SAFETY_NET = 60.0


class DapClient:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection((host, port), timeout=SAFETY_NET)
        self._seq = 0
        self._buffer = b""
        self.seen: list[Message] = []  # every message read, in order

    def close(self) -> None:
        self.sock.close()

    def send(self, command: str, **arguments: Any) -> int:
        self._seq += 1
        body = json.dumps(
            {"seq": self._seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self._seq

    def _read(self) -> Message:
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(self._buffer) < length:
            self._fill()
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        message: Message = json.loads(body)
        self.seen.append(message)
        return message

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the debug adapter closed the connection")
        self._buffer += chunk

    def wait(self, predicate: Callable[[Message], bool], what: str) -> Message:
        """The first message (already read or coming) that matches ``predicate``."""
        for message in self.seen:
            if predicate(message):
                self.seen.remove(message)
                return message
        deadline = time.monotonic() + SAFETY_NET
        while time.monotonic() < deadline:
            message = self._read()
            if predicate(message):
                self.seen.remove(message)
                return message
        raise AssertionError(f"timed out waiting for {what}")

    def event(self, name: str) -> Message:
        return self.wait(lambda m: m.get("type") == "event" and m.get("event") == name, name)

    def response(self, seq: int) -> Message:
        message = self.wait(
            lambda m: m.get("type") == "response" and m.get("request_seq") == seq,
            f"the response to request {seq}",
        )
        assert message["success"], message
        return message

    def request(self, command: str, **arguments: Any) -> Message:
        return self.response(self.send(command, **arguments))

    def attach_with_breakpoint(self, path: str, line: int) -> None:
        """What VS Code does on an "attach" launch configuration with one breakpoint set."""
        self.request("initialize", adapterID="debugpy", clientID="test", pathFormat="path",
                     linesStartAt1=True, columnsStartAt1=True)  # fmt: skip
        attach = self.send("attach", justMyCode=True)
        self.event("initialized")
        found = self.request("setBreakpoints", source={"path": path}, breakpoints=[{"line": line}])
        assert found["body"]["breakpoints"][0]["verified"], found
        self.request("configurationDone")
        self.response(attach)

    def stopped_at(self) -> tuple[int, str, int]:
        """(thread, file, line) of the next ``stopped`` event."""
        stopped = self.event("stopped")
        thread = stopped["body"]["threadId"]
        frames = self.request("stackTrace", threadId=thread, startFrame=0, levels=1)
        top = frames["body"]["stackFrames"][0]
        return thread, top["source"]["path"], top["line"]
