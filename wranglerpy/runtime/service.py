"""Service bindings: ``env.STREAMING.fetch(...)`` and RPC to another local worker.

Calls travel as frames (``wranglerpy.wire``) over the target's unix socket, found through the
registry, so they never leave the machine and stream both ways: an SSE response arrives chunk
by chunk. RPC arguments and results are CBOR: bytes, datetimes and big integers survive.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable
from typing import Any

from wranglerpy.config.schema import ServiceBinding
from wranglerpy.host.locations import Locations, WorkerLocation
from wranglerpy.runtime import limits, tracing
from wranglerpy.runtime.headers import Headers
from wranglerpy.runtime.request_response import Response, make_request
from wranglerpy.wire.client import FrameClient
from wranglerpy.wire.frames import CallLost, RpcHead, ServiceFetchHead, WireValueError

# What a call to a worker that went away mid-call rejects with: a DISCONNECTED failure is a JS
# Error with this message (workerd src/workerd/jsg/util.c++:322-330); it is not sent again.
CONNECTION_LOST = "Network connection lost."


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


ClientFactory = Callable[[str], FrameClient]


class ServiceFetcher:
    """What ``env.<binding>`` is for a ``[[services]]`` entry."""

    def __init__(
        self,
        binding: ServiceBinding,
        caller: str,
        registry: Locations,
        *,
        mode: str = "dev",
        client_factory: ClientFactory = FrameClient,
    ) -> None:
        self._binding = binding
        self._caller = caller
        self._registry = registry
        self._mode = mode
        self._client_factory = client_factory
        self._clients: dict[str, FrameClient] = {}

    def __repr__(self) -> str:
        return f"<ServiceFetcher {self._binding.binding} -> {self._binding.service}>"

    def _target(self) -> WorkerLocation | None:
        return self._registry.lookup(self._binding.service, self._binding.environment, self._mode)

    def _client(self, entry: WorkerLocation) -> FrameClient:
        socket = entry.pick_socket()  # a gradual deployment: each call picks by the shares
        client = self._clients.get(socket)
        if client is None:
            client = self._client_factory(socket)
            self._clients[socket] = client
        return client

    def _not_found(self) -> str:
        return f'Worker "{self._binding.service}" not found. Make sure it is running locally.'

    async def fetch(
        self,
        input: Any,
        init: dict[str, Any] | None = None,
        *,
        method: str | None = None,
        headers: Any = None,
        body: Any = None,
    ) -> Response:
        """Send a request to the target worker; the response streams back as it is produced.

        As the SDK's ``_FetcherWrapper.fetch`` (SDK ``rpc.py:352-354``), through ``pyfetch``:
        what the binding's JS fetch throws is ``AbortError`` (an ``OSError``), e.g. for a
        relative URL, which a service binding does not resolve (its Fetcher requires a host,
        workerd ``server/server.c++:4784``): ``Invalid URL: /x``. A target that dies while
        handling the request (after it was delivered) is ``AbortError('Network connection
        lost.')``, and the request is not sent again.
        """
        from wranglerpy.runtime.ffi import JsException
        from wranglerpy.runtime.pyfetch import AbortError
        from wranglerpy.runtime.sdk_body import sdk_request_body

        try:
            if body is not None:
                body = await sdk_request_body(body)  # a Python iterator fails as on Cloudflare
            return await self._fetch(input, init, method=method, headers=headers, body=body)
        except JsException as exc:
            raise AbortError(exc.message) from None

    async def _fetch(
        self,
        input: Any,
        init: dict[str, Any] | None = None,
        *,
        method: str | None = None,
        headers: Any = None,
        body: Any = None,
    ) -> Response:
        limits.count_subrequest()
        request = make_request(
            input, init, method=method, headers=headers, body=body, base_url=None
        )
        entry = self._target()
        if entry is None:
            return not_found_response(self._binding.service)
        if (request.headers.get("upgrade") or "").lower() == "websocket":
            from wranglerpy.runtime.websocket_wire import connect_remote
            from wranglerpy.wire.frames import WebSocketHead

            upgrade = WebSocketHead(
                url=request.url,
                headers=request.headers.raw(),
                trace=tracing.current_trace_id() or tracing.new_trace_id(),
                caller=self._caller,
                entrypoint=self._binding.entrypoint,
            )
            response: Response = await connect_remote(self._client(entry), upgrade)
            return response
        head = ServiceFetchHead(
            method=request.method,
            url=request.url,
            headers=[(k, v) for k, v in request.headers.raw() if k not in _NOT_FORWARDED],
            trace=tracing.outgoing(),
            caller=self._caller,
            entrypoint=self._binding.entrypoint,
        )
        buffer: bytes | None = None
        stream: AsyncIterator[bytes] | None = None
        if request.has_body():
            if request.is_buffered():
                buffer = await request.bytes()
            else:
                stream = request.body
        try:
            answer = await self._client(entry).fetch(head, buffer, stream)
        except CallLost:
            from wranglerpy.runtime.pyfetch import AbortError

            raise AbortError(CONNECTION_LOST) from None
        except (ConnectionError, FileNotFoundError):
            return not_found_response(self._binding.service)
        response_headers = Headers.from_raw(answer.head.headers)
        if answer.body is not None:
            return Response(
                answer.body or None, status=answer.head.status, headers=response_headers
            )
        return Response(answer.chunks(), status=answer.head.status, headers=response_headers)

    async def aclose(self) -> None:
        """Close pooled connections (the process's exit does this too)."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()

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
        from wranglerpy.runtime.rpc import check_rpc_value

        check_rpc_value(list(args))  # tuples refused as the SDK refuses them
        check_rpc_value(kwargs)
        limits.count_subrequest()
        entry = self._target()
        if entry is None:
            raise remote_exception("Error", self._not_found())
        head = RpcHead(
            method=method,
            args=list(args),
            kwargs=kwargs,
            trace=tracing.outgoing(),
            caller=self._caller,
            entrypoint=self._binding.entrypoint,
        )
        try:
            result = await self._client(entry).call(head)
        except WireValueError as exc:
            raise TypeError(f"RPC arguments to {method}() cannot be sent: {exc}") from None
        except CallLost:
            raise remote_exception("Error", CONNECTION_LOST) from None
        except (ConnectionError, FileNotFoundError):
            raise remote_exception("Error", self._not_found()) from None
        if result.ok:
            return result.value
        raise remote_exception(result.error_name or "Error", result.error_message)


_NOT_FORWARDED = frozenset({b"host", b"content-length"})
