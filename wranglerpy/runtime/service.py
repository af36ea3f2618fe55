"""Service bindings: ``env.STREAMING.fetch(...)`` and RPC to another local worker.

Calls travel as HTTP over the target's unix socket (found through the dev registry), so they
never leave the machine and stream both ways: an SSE response arrives chunk by chunk.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from typing import Any

from wranglerpy.config.schema import ServiceBinding
from wranglerpy.registry.dev_registry import DevRegistry, WorkerEntry
from wranglerpy.runtime import protocol, tracing
from wranglerpy.runtime.binding_client import BindingTransport, UnixFrameTransport
from wranglerpy.runtime.messages import Request, Response, make_request


class RPCError(Exception):
    """An exception raised by the target of an RPC call whose type is not a Python builtin.

    Its class name is the remote exception's type name, so ``except`` by name and tracebacks
    read as they would in the target.
    """

    remote_type = "Error"


def remote_exception(type_name: str, message: str) -> Exception:
    """Re-create the target's exception: the builtin type when there is one, else a subclass
    of ``RPCError`` carrying the remote type's name."""
    builtin = getattr(builtins, type_name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        try:
            return builtin(message)
        except TypeError:
            pass
    cls = type(type_name, (RPCError,), {"remote_type": type_name})
    return cls(message)


def not_found_response(service: str) -> Response:
    return Response(
        f'Worker "{service}" not found. Make sure it is running locally.',
        status=503,
        headers={"content-type": "text/plain;charset=UTF-8"},
    )


TransportFactory = Callable[[str], BindingTransport]


class ServiceFetcher:
    """What ``env.<binding>`` is for a ``[[services]]`` entry."""

    def __init__(
        self,
        binding: ServiceBinding,
        caller: str,
        registry: DevRegistry,
        *,
        mode: str = "dev",
        transport_factory: TransportFactory = UnixFrameTransport,
    ) -> None:
        self._binding = binding
        self._caller = caller
        self._registry = registry
        self._mode = mode
        self._transport_factory = transport_factory
        self._transports: dict[str, BindingTransport] = {}

    def __repr__(self) -> str:
        return f"<ServiceFetcher {self._binding.binding} -> {self._binding.service}>"

    def _target(self) -> WorkerEntry | None:
        return self._registry.lookup(self._binding.service, self._binding.environment, self._mode)

    def _transport(self, entry: WorkerEntry) -> BindingTransport:
        transport = self._transports.get(entry.socket)
        if transport is None:
            transport = self._transport_factory(entry.socket)
            self._transports[entry.socket] = transport
        return transport

    def _internal_headers(self, entry: WorkerEntry) -> dict[str, str]:
        headers = {
            protocol.BINDING_TOKEN_HEADER: entry.token,
            protocol.CALLER_HEADER: self._caller,
            protocol.TRACE_HEADER: tracing.current_trace_id() or tracing.new_trace_id(),
        }
        if self._binding.entrypoint:
            headers[protocol.ENTRYPOINT_HEADER] = self._binding.entrypoint
        return headers

    async def fetch(
        self,
        input: Any,
        init: dict[str, Any] | None = None,
        *,
        method: str | None = None,
        headers: Any = None,
        body: Any = None,
    ) -> Response:
        """Send a request to the target worker; the response streams back as it is produced."""
        entry = self._target()
        request = make_request(
            input,
            init,
            method=method,
            headers=headers,
            body=body,
            base_url=entry.url if entry else "http://localhost",
        )
        if entry is None:
            return not_found_response(self._binding.service)
        try:
            return await self._transport(entry).send(request, self._internal_headers(entry))
        except (ConnectionError, FileNotFoundError):
            return not_found_response(self._binding.service)

    async def aclose(self) -> None:
        """Close pooled connections (the process's exit does this too)."""
        for transport in self._transports.values():
            closer = getattr(transport, "aclose", None)
            if closer is not None:
                await closer()
        self._transports.clear()

    async def connect(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("connect() (TCP sockets) is not supported on a local service binding")

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._rpc(method, args, kwargs)

        call.__name__ = method
        return call

    async def _rpc(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        entry = self._target()
        if entry is None:
            raise remote_exception(
                "Error",
                f'Worker "{self._binding.service}" not found. Make sure it is running locally.',
            )
        try:
            payload = json.dumps({"args": list(args), "kwargs": kwargs})
        except TypeError as exc:
            raise TypeError(
                f"RPC arguments to {method}() must be JSON-serialisable: {exc}"
            ) from None
        request = Request(
            f"http://{self._binding.service}{protocol.RPC_PATH_PREFIX}{method}",
            method="POST",
            headers={"content-type": "application/json", **self._internal_headers(entry)},
            body=payload,
        )
        try:
            response = await self._transport(entry).send(request, {})
        except (ConnectionError, FileNotFoundError):
            raise remote_exception(
                "Error",
                f'Worker "{self._binding.service}" not found. Make sure it is running locally.',
            ) from None
        data = await response.json()
        if data.get("ok"):
            return data.get("result")
        error = data.get("error") or {}
        raise remote_exception(error.get("name", "Error"), error.get("message", "RPC call failed"))
