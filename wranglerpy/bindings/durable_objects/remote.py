"""Single instance across processes: one process owns each namespace; others call it.

Ownership is an exclusive ``flock`` on ``<registry>/durable-objects/<mode>/<worker>-<class>.lock``,
held for the owner's lifetime: the kernel releases it when the owner dies, so the next caller
takes over (its objects come back on the next call; storage is shared). The owner writes the
unix socket it serves Durable Object frames on (``wire.frames.DurableObjectHead``) beside the
lock; every other process — another ``dev`` of the same worker, another process of an edge
fleet, or a worker binding the class with ``script_name`` — sends its calls there.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wranglerpy.bindings.durable_objects.errors import Error
from wranglerpy.bindings.durable_objects.ids import unique_key
from wranglerpy.bindings.durable_objects.routing import ObjectAddress
from wranglerpy.host.locations import pid_alive
from wranglerpy.runtime import tracing
from wranglerpy.wire import frames
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import DurableObjectHead, Result, WebSocketHead
from wranglerpy.wire.server import Call, FrameServer

if TYPE_CHECKING:
    from wranglerpy.bindings.durable_objects.host import ObjectHost


class Ownership:
    """Which namespaces this process owns, and where the others' owners listen."""

    def __init__(self, registry_dir: Path, mode: str = "dev") -> None:
        self.directory = registry_dir / "durable-objects" / mode
        self.socket_path: str | None = None
        self._held: dict[str, int] = {}
        self._hostable: set[str] = set()

    def may_host(self, namespace: str) -> None:
        self._hostable.add(namespace)

    def owns(self, namespace: str) -> bool:
        """True when this process owns ``namespace`` (claiming it if nobody does)."""
        if namespace in self._held:
            return True
        if namespace not in self._hostable or self.socket_path is None:
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / f"{namespace}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._held[namespace] = fd
        record = {"socket": self.socket_path, "pid": os.getpid()}
        tmp_fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        with os.fdopen(tmp_fd, "w") as out:
            json.dump(record, out)
        os.replace(tmp, self.directory / f"{namespace}.json")
        return True

    def owner_socket(self, namespace: str) -> str | None:
        try:
            record = json.loads((self.directory / f"{namespace}.json").read_text())
        except (OSError, ValueError):
            return None
        if not pid_alive(int(record.get("pid", 0))):
            return None
        return str(record["socket"])

    def release(self) -> None:
        for fd in self._held.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._held.clear()


class RegistryLocator:
    """The ``Locator`` of the routing seam, backed by :class:`Ownership`."""

    def __init__(self, ownership: Ownership) -> None:
        self.ownership = ownership

    def owner(self, address: ObjectAddress) -> str | None:
        namespace = unique_key(address.worker, address.class_name)
        if self.ownership.owns(namespace):
            return None
        socket_path = self.ownership.owner_socket(namespace)
        if socket_path is None and self.ownership.owns(namespace):
            return None  # the owner just died: this process takes over
        if socket_path is None:
            raise Error(
                f'Durable Object class "{address.class_name}" of worker "{address.worker}" is '
                "not running. Make sure the worker that defines it is running locally."
            )
        return socket_path


class WireCourier:
    """Carries encoded calls to owners over the wire (one pooled client per owner)."""

    def __init__(self) -> None:
        self._clients: dict[str, FrameClient] = {}

    async def send(self, owner: str, address: ObjectAddress, call: bytes) -> bytes:
        client = self._clients.get(owner)
        if client is None:
            client = self._clients[owner] = FrameClient(owner)
        head = DurableObjectHead(
            worker=address.worker,
            class_name=address.class_name,
            object_id=address.object_id,
            name=address.name,
            call=call,
            trace=tracing.outgoing(),  # the object's event is a span under the caller's
        )
        try:
            result = await client.call(head)
        except (ConnectionError, FileNotFoundError):
            self._clients.pop(owner, None)
            raise Error(
                f'Durable Object class "{address.class_name}" of worker "{address.worker}" '
                "is not reachable: its process went away. Try again."
            ) from None
        if not result.ok:
            raise Error(f"{result.error_name}: {result.error_message}")
        return bytes(result.value)

    async def upgrade(self, owner: str, address: ObjectAddress, request: Any) -> Any:
        """``stub.fetch`` of a WebSocket upgrade on an object another process owns."""
        from wranglerpy.runtime import websocket_wire

        client = self._clients.get(owner)
        if client is None:
            client = self._clients[owner] = FrameClient(owner)
        head = WebSocketHead(
            url=request.url,
            headers=request.headers.raw(),
            object_worker=address.worker,
            object_class=address.class_name,
            object_id=address.object_id,
            object_name=address.name,
        )
        return await websocket_wire.connect_remote(client, head)


def bind_socket() -> tuple[socket.socket, str]:
    """A listening unix socket for this process's Durable Object frames. It lives in a short
    temporary folder: a socket path may not exceed ~100 bytes (registry and state folders
    nested in a project easily do)."""
    directory = Path(tempfile.gettempdir()) / f"wranglerpy-do-{os.getuid()}"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = str(directory / f"{os.getpid()}.sock")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(128)
    return sock, path


def frame_server(host: ObjectHost) -> FrameServer:
    async def on_call(head: Any, call: Call) -> None:
        assert isinstance(head, DurableObjectHead)
        with tracing.caller(head.trace):
            reply = await host.handle_call(head.class_name, head.object_id, head.name, head.call)
        call.reply(Result(True, reply))

    async def on_websocket(head: Any, call: Call) -> None:
        """A WebSocket upgrade for an object this process owns, from another process."""
        from wranglerpy.bindings.durable_objects.namespace import invoke_fetch
        from wranglerpy.runtime import websocket_wire
        from wranglerpy.runtime.headers import Headers
        from wranglerpy.runtime.request_response import Request

        assert isinstance(head, WebSocketHead)
        oid = host.factory(head.object_class).from_string(head.object_id, head.object_name)
        request = Request(head.url, headers=Headers.from_raw(head.headers))
        response = await host.run_event(
            head.object_class, oid, "fetch", lambda inst: invoke_fetch(inst, request)
        )
        await websocket_wire.answer(response, call)

    return FrameServer({frames.DURABLE_OBJECT: on_call, frames.WEBSOCKET: on_websocket})
