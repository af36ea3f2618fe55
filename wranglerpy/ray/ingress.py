"""The cluster's one routed Serve application: by host (``<name>.localhost``) and ``routes``
patterns, then path, as the local edge's router decides (``deploy.routes``).

Serve's HTTP proxy (on every node by default) hands each request to an ingress replica (an
ASGI app, ``serve.ingress``, so WebSocket upgrades reach it too: ``ray/websocket.py``), which
sends it to the worker's application as a ``FETCH`` frame over a deployment handle and
streams the answer back. Worker applications have no route of their own: an internal worker
(``workers_dev = false``, no routes) answers only its service bindings. The routing table
is the deployment's ``user_config``, so a deploy updates it in place without a restart.
"""

from __future__ import annotations

import json
from typing import Any

from wranglerpy.deploy.router import HOP_BY_HOP, RESERVED_PREFIX
from wranglerpy.deploy.routes import RouteTable, build_table, not_found_message
from wranglerpy.ray.handles import MAX_BODY, BodyTooLarge, HandleClient
from wranglerpy.ray.inbox import process_inbox
from wranglerpy.wire.frames import FetchHead

_DROPPED = frozenset({b"content-length", b"transfer-encoding", b"connection", b"keep-alive"})


def routing_config(workers: dict[str, tuple[bool, tuple[str, ...]]]) -> dict[str, Any]:
    """The ingress's ``user_config``: name -> [workers_dev, [route patterns]] (JSON)."""
    return {"workers": {name: [dev, list(routes)] for name, (dev, routes) in workers.items()}}


class Ingress:
    """The deployment's class (wrapped by ``serve.ingress()`` in ``publish``): an ASGI app
    whose HTTP requests go to ``handle`` and WebSockets to ``websocket``."""

    def __init__(self) -> None:
        self.table: RouteTable = build_table({})
        self.internal: list[str] = []
        self.clients: dict[str, HandleClient] = {}
        self.inbox: Any = None  # WebSocket messages and long bodies (ray/inbox.py), made at need

    def __serve_build_asgi_app__(self) -> Any:
        return _Asgi(self)

    async def asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
        else:
            from starlette.requests import Request

            response = await self.handle(Request(scope, receive))
            await response(scope, receive, send)

    async def websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from wranglerpy.ray import websocket

        host = _header(scope, b"host")
        path = scope["path"]
        worker = None if path.startswith(RESERVED_PREFIX) else self.table.match(host, path)
        if worker is None:
            await receive()  # websocket.connect
            body = json.dumps(self.not_found(host)).encode()
            denial = "websocket.http.response" in (scope.get("extensions") or {})
            headers = [(b"content-type", b"application/json")]
            await websocket.refuse(send, 404, headers, body, denial_response=denial)
            return
        if self.inbox is None:
            self.inbox = process_inbox()
        client = scope.get("client")
        head = websocket.handshake(scope, host, client[0] if client else "127.0.0.1")
        await websocket.relay(self._client(worker), self.inbox, head, scope, receive, send)

    def reconfigure(self, config: dict[str, Any]) -> None:
        workers = {
            str(name): (bool(dev), tuple(str(r) for r in routes))
            for name, (dev, routes) in (config.get("workers") or {}).items()
        }
        self.table = build_table(workers)
        self.internal = [n for n, (dev, routes) in workers.items() if not dev and not routes]

    def _client(self, worker: str) -> HandleClient:
        client = self.clients.get(worker)
        if client is None:
            client = self.clients[worker] = HandleClient(worker, inbox=self.inbox)
        return client

    def not_found(self, host: str) -> dict[str, str]:
        # The same answer as the local edge's router (deploy/router.py).
        return {
            "error": not_found_message(host, self.internal),
            "hint": "`wranglerpy deployments list --target ray` shows the routes.",
        }

    async def handle(self, request: Any) -> Any:
        """One HTTP request (a Starlette ``Request``): the worker's answer as a response."""
        from starlette.responses import JSONResponse, Response, StreamingResponse

        host = request.headers.get("host", "")
        path = request.url.path
        worker = None if path.startswith(RESERVED_PREFIX) else self.table.match(host, path)
        if worker is None:
            return JSONResponse(self.not_found(host), status_code=404)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return JSONResponse({"error": f"a request body over {MAX_BODY} bytes"}, 413)
        client_ip = request.client.host if request.client else "127.0.0.1"
        headers = [
            (k, v) for k, v in request.scope["headers"] if k.decode("latin-1") not in HOP_BY_HOP
        ]
        headers.append((b"cf-connecting-ip", client_ip.encode("latin-1")))
        headers.append((b"x-forwarded-proto", b"http"))
        query = request.scope.get("query_string", b"").decode("latin-1")
        target = path + (f"?{query}" if query else "")
        head = FetchHead(
            method=request.method,
            url=f"http://{host or '127.0.0.1'}{target}",
            headers=headers,
            client=client_ip,
        )
        try:
            answer = await self._client(worker).fetch(head, stream=request.stream())
        except BodyTooLarge as exc:
            return JSONResponse({"error": str(exc)}, status_code=413)
        except ConnectionError:
            return JSONResponse({"error": "the worker is not reachable"}, status_code=502)
        raw = [(k, v) for k, v in answer.head.headers if k.lower() not in _DROPPED]
        response: Any
        if answer.body is not None:
            response = Response(answer.body, status_code=answer.head.status)
            length = [(b"content-length", str(len(answer.body)).encode())]
            response.raw_headers = raw + (length if request.method != "HEAD" else [])
        else:
            response = StreamingResponse(answer.chunks(), status_code=answer.head.status)
            response.raw_headers = raw
        return response


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


class _Asgi:
    """The ingress as an ASGI 3 app: uvicorn (in Serve's replica) takes a bound method for an
    ASGI 2 app, so the app is an object whose ``__call__`` is a coroutine function."""

    def __init__(self, ingress: Ingress) -> None:
        self.ingress = ingress

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.ingress.asgi(scope, receive, send)
