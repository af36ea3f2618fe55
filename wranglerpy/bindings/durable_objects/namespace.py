"""``env.<BINDING>`` of a Durable Object class: ids and stubs (workerd ``api/actor.c++``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from wranglerpy.bindings.durable_objects import clone
from wranglerpy.bindings.durable_objects.errors import Error, RangeError
from wranglerpy.bindings.durable_objects.host import ObjectHost
from wranglerpy.bindings.durable_objects.ids import DurableObjectId, IdFactory
from wranglerpy.bindings.durable_objects.routing import (
    ObjectAddress,
    decode_result,
    encode_call,
    encode_fetch,
)
from wranglerpy.runtime.entrypoint import relaxed_call
from wranglerpy.runtime.request_response import Request, Response, make_request
from wranglerpy.runtime.service import remote_exception

JURISDICTIONS = ("eu", "fedramp", "fedramp-high")
# Lifecycle handlers are the runtime's to call, not RPC methods.
_NOT_RPC = frozenset({"fetch", "alarm", "webSocketMessage", "webSocketClose", "webSocketError"})


def copy_exception(exc: BaseException) -> BaseException:
    """The exception as the caller sees it: same type and message, not the same object."""
    try:
        copy = type(exc)(*exc.args)
    except Exception:  # noqa: BLE001 - a constructor with other arguments
        return remote_exception(type(exc).__name__, str(exc))
    return copy


class DurableObjectNamespace:
    def __init__(
        self,
        binding: str,
        class_name: str,
        host: ObjectHost,
        jurisdiction: str | None = None,
    ) -> None:
        self._binding = binding
        self._class = class_name
        self._host = host
        self._jurisdiction = jurisdiction
        base = host.factory(class_name)
        self._factory = (
            base
            if jurisdiction is None
            else IdFactory(f"{host.worker}-{class_name}@{jurisdiction}")
        )

    def __repr__(self) -> str:
        return f"<DurableObjectNamespace {self._binding} -> {self._class}>"

    def idFromName(self, name: str) -> DurableObjectId:  # noqa: N802
        object_id = self._factory.from_name(str(name))
        object_id.jurisdiction = self._jurisdiction
        return object_id

    def newUniqueId(self, options: Any = None, **kwargs: Any) -> DurableObjectId:  # noqa: N802
        opts = dict(options or {}, **kwargs)
        wanted = opts.get("jurisdiction")
        if wanted is not None:
            return self.jurisdiction(wanted).newUniqueId()
        object_id = self._factory.new_unique()
        object_id.jurisdiction = self._jurisdiction
        return object_id

    def idFromString(self, text: str) -> DurableObjectId:  # noqa: N802
        object_id = self._factory.from_string(text)
        object_id.jurisdiction = self._jurisdiction
        return object_id

    def get(
        self, object_id: DurableObjectId, options: Any = None, **kwargs: Any
    ) -> DurableObjectStub:
        if not isinstance(object_id, DurableObjectId):
            raise TypeError(
                "get() expects a DurableObjectId (from idFromName, idFromString or newUniqueId)."
            )
        if object_id.jurisdiction != self._jurisdiction:
            raise TypeError(
                "get called on jurisdictional subnamespace with an ID from a different jurisdiction"
            )
        opts = dict(options or {}, **kwargs)
        mode = opts.get("routingMode")
        if mode is not None and mode != "primary-only":
            raise RangeError(f"unknown routingMode: {mode}")
        # Ids made by another namespace fail here, as in workerd.
        self._factory.from_string(object_id.toString())
        return DurableObjectStub(self._host, self._class, object_id)

    def getByName(self, name: str, options: Any = None, **kwargs: Any) -> DurableObjectStub:  # noqa: N802
        return self.get(self.idFromName(name), options, **kwargs)

    def getExisting(self, object_id: DurableObjectId, options: Any = None) -> DurableObjectStub:  # noqa: N802
        return self.get(object_id, options)

    def jurisdiction(self, name: str | None) -> DurableObjectNamespace:
        if name is None:
            return DurableObjectNamespace(self._binding, self._class, self._host)
        if name not in JURISDICTIONS:
            raise TypeError(
                f'Unknown jurisdiction "{name}"; expected one of {", ".join(JURISDICTIONS)}.'
            )
        return DurableObjectNamespace(self._binding, self._class, self._host, name)


class DurableObjectStub:
    """A stub: ``await stub.fetch(request)`` and ``await stub.<method>(...)`` (RPC)."""

    def __init__(self, host: ObjectHost, class_name: str, object_id: DurableObjectId) -> None:
        self._host = host
        self._class = class_name
        self.id = object_id
        self.name = object_id.name

    def __repr__(self) -> str:
        return f"<DurableObjectStub {self._class} {self.id.toString()}>"

    async def fetch(self, input: Any, init: Any = None, **kwargs: Any) -> Response:
        # The SDK wraps stubs in _FetcherWrapper, whose fetch goes through pyfetch: a JS error
        # (a relative URL's TypeError) is AbortError (workerd src/pyodide/internal/
        # workers-api/src/workers/_workers.py:1030-1031, 1040-1044).
        from wranglerpy.runtime import compat
        from wranglerpy.runtime.ffi import JsException
        from wranglerpy.runtime.pyfetch import AbortError

        try:
            request = make_request(input, init, base_url=compat.process().stub_fetch_base, **kwargs)
        except JsException as exc:
            raise AbortError(exc.message) from None
        host = self._host
        address = ObjectAddress(host.worker, self._class, self.id.toString(), self.id.name)
        host.start()  # serving (and so owning) needs the host's socket up
        owner = host.locator.owner(address)
        if owner is not None and host.courier is not None:
            upgrade = (request.headers.get("upgrade") or "").lower() == "websocket"
            if upgrade and hasattr(host.courier, "upgrade"):
                response: Response = await host.courier.upgrade(owner, address, request)
                return response
            body = await request.bytes() if request.has_body() else b""
            call = encode_fetch(request.method, request.url, list(request.headers.items()), body)
            status, headers, content = decode_result(await host.courier.send(owner, address, call))
            return Response(content or None, status=status, headers=headers)
        detail = {"url": request.url, "path": f"fetch() {urlsplit(request.url).path}"}
        try:
            response = await host.run_event(
                self._class, self.id, "fetch", lambda inst: invoke_fetch(inst, request), detail
            )
        except Exception as exc:
            raise copy_exception(exc) from None
        if not isinstance(response, Response):
            raise TypeError(f"fetch() must return a Response, got {type(response).__name__}")
        return response

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._rpc(method, args, kwargs)

        call.__name__ = method
        return call

    async def _rpc(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        sent_args = [clone.rpc_clone(a) for a in args]
        sent_kwargs = {k: clone.rpc_clone(v) for k, v in kwargs.items()}
        host = self._host
        address = ObjectAddress(host.worker, self._class, self.id.toString(), self.id.name)
        host.start()  # serving (and so owning) needs the host's socket up
        owner = host.locator.owner(address)
        if owner is not None and host.courier is not None:
            reply = await host.courier.send(
                owner, address, encode_call(method, sent_args, sent_kwargs)
            )
            return decode_result(reply)
        try:
            result = await host.run_event(
                self._class,
                self.id,
                method,
                lambda inst: invoke_method(inst, method, sent_args, sent_kwargs),
            )
        except Exception as exc:
            raise copy_exception(exc) from None
        return clone.rpc_clone(result)


def invoke_fetch(instance: Any, request: Request) -> Any:
    handler = getattr(instance, "fetch", None)
    if handler is None:
        raise Error("Handler does not export a fetch() function.")
    return relaxed_call(handler, request)


def invoke_method(instance: Any, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    func = getattr(instance, method, None)
    if method.startswith("_") or method in _NOT_RPC or not callable(func):
        raise TypeError(f'The RPC receiver does not implement the method "{method}".')
    return func(*args, **kwargs)
