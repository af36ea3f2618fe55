"""Service bindings: ``env.STREAMING.fetch(...)`` and RPC to another local worker.

Calls travel as HTTP over the target's unix socket (found through the dev registry), so they
never leave the machine and stream both ways: an SSE response arrives chunk by chunk.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from typing import Any

import httpx

from wranglerpy.config.schema import ServiceBinding
from wranglerpy.registry.dev_registry import DevRegistry, WorkerEntry
from wranglerpy.runtime import protocol, tracing
from wranglerpy.runtime.http_bridge import from_httpx, make_request, to_httpx
from wranglerpy.runtime.messages import Request, Response


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


ClientFactory = Callable[[str], httpx.AsyncClient]


def _uds_client(socket_path: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(uds=socket_path, retries=1)
    return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(None, connect=10.0))


class ServiceFetcher:
    """What ``env.<binding>`` is for a ``[[services]]`` entry."""

    def __init__(
        self,
        binding: ServiceBinding,
        caller: str,
        registry: DevRegistry,
        *,
        mode: str = "dev",
        client_factory: ClientFactory = _uds_client,
    ) -> None:
        self._binding = binding
        self._caller = caller
        self._registry = registry
        self._mode = mode
        self._client_factory = client_factory
        self._clients: dict[str, httpx.AsyncClient] = {}

    def __repr__(self) -> str:
        return f"<ServiceFetcher {self._binding.binding} -> {self._binding.service}>"

    def _target(self) -> WorkerEntry | None:
        return self._registry.lookup(self._binding.service, self._binding.environment, self._mode)

    def _client(self, entry: WorkerEntry) -> httpx.AsyncClient:
        client = self._clients.get(entry.socket)
        if client is None:
            client = self._client_factory(entry.socket)
            self._clients[entry.socket] = client
        return client

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
        client = self._client(entry)
        outgoing = to_httpx(client, request, self._internal_headers(entry))
        try:
            response = await client.send(outgoing, stream=True)
        except (httpx.ConnectError, httpx.RemoteProtocolError):
            if isinstance(outgoing.stream, httpx.ByteStream) or request.method in ("GET", "HEAD"):
                # The target was restarting and closed a pooled connection: one clean retry.
                response = await client.send(outgoing, stream=True)
            else:
                return not_found_response(self._binding.service)
        return from_httpx(response, method=request.method)

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
        client = self._client(entry)
        request = Request(
            f"http://{self._binding.service}{protocol.RPC_PATH_PREFIX}{method}",
            method="POST",
            headers={"content-type": "application/json", **self._internal_headers(entry)},
            body=payload,
        )
        response = await client.send(to_httpx(client, request))
        data = response.json()
        if data.get("ok"):
            return data.get("result")
        error = data.get("error") or {}
        raise remote_exception(error.get("name", "Error"), error.get("message", "RPC call failed"))
