"""``wranglerpy types``: Python type stubs for a worker's ``env``, from its config.

Cloudflare's Python SDK annotates ``self.env`` as ``js.Env`` (only under ``TYPE_CHECKING``), and
pywrangler's ``types`` writes a ``js`` stub module in which ``Env`` has one attribute per var,
secret and binding. This writes such a module from the config alone (no Node.js or
TypeScript), so editors and mypy complete ``self.env.KV.get`` and know that
``self.env.API_VERSION`` is a ``str``.

The stub goes to ``typings/js/__init__.pyi`` beside the config: pyright and Pylance look in
``typings/`` by default, mypy with ``mypy_path = "typings"``. It stays outside the worker's
sources on purpose: a ``js`` folder there would shadow the runtime's ``js`` module.
"""

from __future__ import annotations

from pathlib import Path

from wranglerpy.config.schema import WorkerConfig

STUB_PACKAGE = "js"

# The binding interfaces, as Python Workers see them through Pyodide (JS names, awaitables).
INTERFACES = """\
class KVNamespaceListKey:
    name: str
    expiration: int | None
    metadata: Any

class KVNamespaceListResult:
    keys: list[KVNamespaceListKey]
    list_complete: bool
    cursor: str | None

class KVNamespace:
    async def get(self, key: str, options: Any = ..., /, **kwargs: Any) -> Any: ...
    async def getWithMetadata(self, key: str, options: Any = ..., /, **kwargs: Any) -> Any: ...
    async def put(self, key: str, value: Any, options: Any = ..., /, **kwargs: Any) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def list(self, options: Any = ..., /, **kwargs: Any) -> KVNamespaceListResult: ...

class D1Result:
    results: list[Any]
    success: bool
    meta: Any

class D1PreparedStatement:
    def bind(self, *values: Any) -> D1PreparedStatement: ...
    async def first(self, column: str | None = ...) -> Any: ...
    async def all(self) -> D1Result: ...
    async def run(self) -> D1Result: ...
    async def raw(self, options: Any = ..., /, **kwargs: Any) -> list[list[Any]]: ...

class D1Database:
    def prepare(self, query: str) -> D1PreparedStatement: ...
    async def batch(self, statements: list[D1PreparedStatement]) -> list[D1Result]: ...
    async def exec(self, query: str) -> Any: ...

class R2Object:
    key: str
    version: str
    size: int
    etag: str
    httpEtag: str
    uploaded: Any
    httpMetadata: Any
    customMetadata: dict[str, str]

class R2ObjectBody(R2Object):
    bodyUsed: bool
    async def arrayBuffer(self) -> Any: ...
    async def bytes(self) -> bytes: ...
    async def text(self) -> str: ...
    async def json(self) -> Any: ...

class R2Objects:
    objects: list[R2Object]
    delimitedPrefixes: list[str]
    truncated: bool
    cursor: str | None

class R2Bucket:
    async def head(self, key: str) -> R2Object | None: ...
    async def get(self, key: str, options: Any = ..., /, **kwargs: Any) -> R2ObjectBody | None: ...
    async def put(self, key: str, value: Any, options: Any = ..., /, **kwargs: Any) -> R2Object | None: ...
    async def delete(self, keys: str | list[str]) -> None: ...
    async def list(self, options: Any = ..., /, **kwargs: Any) -> R2Objects: ...
    async def createMultipartUpload(self, key: str, options: Any = ..., /, **kwargs: Any) -> Any: ...
    def resumeMultipartUpload(self, key: str, uploadId: str) -> Any: ...

class AnalyticsEngineDataset:
    def writeDataPoint(self, event: Any = ..., /, **kwargs: Any) -> None: ...

class Ai:
    async def run(self, model: str, inputs: Any, options: Any = ..., /, **kwargs: Any) -> Any: ...

class Fetcher:
    async def fetch(self, input: Any, init: Any = ..., /, **kwargs: Any) -> Any: ...
    def __getattr__(self, method: str) -> Any: ...  # RPC to the target's entrypoint

class DurableObjectId:
    name: str | None
    def toString(self) -> str: ...
    def equals(self, other: DurableObjectId) -> bool: ...

class DurableObjectStub(Fetcher):
    id: DurableObjectId
    name: str | None

class DurableObjectNamespace:
    def idFromName(self, name: str) -> DurableObjectId: ...
    def idFromString(self, id: str) -> DurableObjectId: ...
    def newUniqueId(self, options: Any = ..., /, **kwargs: Any) -> DurableObjectId: ...
    def get(self, id: DurableObjectId, options: Any = ..., /, **kwargs: Any) -> DurableObjectStub: ...
    def getByName(self, name: str, options: Any = ..., /, **kwargs: Any) -> DurableObjectStub: ...
    def jurisdiction(self, name: str) -> DurableObjectNamespace: ...
"""


def _var_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "Any"  # JSON objects and arrays: JS objects on Cloudflare


def env_attributes(worker: WorkerConfig) -> list[tuple[str, str]]:
    """``(name, type)`` for each var, secret and binding of ``worker``, in config order."""
    attributes: list[tuple[str, str]] = [(k, _var_type(v)) for k, v in worker.vars]
    attributes += [(k, "str") for k, _ in worker.secrets if k not in dict(worker.vars)]
    attributes += [(s.binding, "Fetcher") for s in worker.services]
    attributes += [(b.binding, "KVNamespace") for b in worker.kv_namespaces]
    attributes += [(b.binding, "D1Database") for b in worker.d1_databases]
    attributes += [(b.binding, "R2Bucket") for b in worker.r2_buckets]
    attributes += [(b.binding, "AnalyticsEngineDataset") for b in worker.analytics_engine_datasets]
    if worker.ai is not None:
        attributes.append((worker.ai.binding, "Ai"))
    attributes += [(b.name, "DurableObjectNamespace") for b in worker.durable_objects]
    if worker.assets is not None and worker.assets.binding:
        attributes.append((worker.assets.binding, "Fetcher"))
    return attributes


def render(workers: list[WorkerConfig]) -> str:
    """The stub module: the interfaces, then ``Env`` with every worker's attributes (the
    union, when several configs share one source tree)."""
    merged: dict[str, str] = {}
    for worker in workers:
        for name, kind in env_attributes(worker):
            if merged.get(name, kind) != kind:
                kind = "Any"  # two workers give the name different types
            merged[name] = kind
    sources = ", ".join(w.config_path.name for w in workers)
    lines = [
        f"# Generated by `wranglerpy types` from {sources}. Do not edit: run it again after",
        "# changing the config.",
        "from typing import Any",
        "",
        INTERFACES,
        "class Env:",
    ]
    lines += [f"    {name}: {kind}" for name, kind in merged.items()] or ["    pass"]
    return "\n".join(lines) + "\n"


def write_stubs(workers: list[WorkerConfig], outdir: Path) -> Path:
    """Write ``<outdir>/js/__init__.pyi``; returns its path."""
    target = outdir / STUB_PACKAGE / "__init__.pyi"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(workers), encoding="utf-8")
    return target
