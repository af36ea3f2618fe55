"""Read-only views of the local state for the dashboard: KV, R2, Durable Objects, queues and
workflows, each through the reader the CLI already uses (the bindings, ``durable_objects.admin``,
the queue and workflow stores). Every listing is bounded: a ``limit`` with a cap, and a cursor
or offset for the next page. A store that does not exist yet is shown as empty, never created.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from wranglerpy.bindings.kv import KVNamespaceBinding, namespace_path, open_namespace
from wranglerpy.bindings.r2 import R2BucketBinding, open_bucket
from wranglerpy.cli import resources
from wranglerpy.services.dashboard.values import jsonable, preview
from wranglerpy.services.s3.buckets import Buckets
from wranglerpy.state.backends import StateBackends

MAX_PAGE = 1000
MAX_MESSAGES = 100


class DashboardError(Exception):
    """A bad request from the page (unknown store, bad argument): 400 or 404 with the text."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def page_size(raw: str | None, default: int = 50, cap: int = MAX_PAGE) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise DashboardError(f"limit must be a whole number from 1 to {cap}, got {raw!r}") from None
    if not 1 <= value <= cap:
        raise DashboardError(f"limit must be from 1 to {cap}, got {value}")
    return value


def offset_of(raw: str | None) -> int:
    try:
        value = int(raw or 0)
    except ValueError:
        raise DashboardError(f"offset must be a whole number, got {raw!r}") from None
    if value < 0:
        raise DashboardError(f"offset must be 0 or more, got {value}")
    return value


class LocalState:
    """The readers over one persist dir; KV namespaces opened once, closed with it."""

    def __init__(self, persist_dir: Path, buckets: Buckets) -> None:
        self.persist_dir = persist_dir
        self.buckets = buckets
        self._kv: dict[str, KVNamespaceBinding] = {}
        # With a state backend (--kv-backend/--r2-backend) the workers' data is on that
        # server: read it there, not from the local folders they no longer use.
        self.backends = StateBackends.from_env()
        self._r2: dict[str, R2BucketBinding] = {}

    def close(self) -> None:
        for binding in self._kv.values():
            binding.close()
        self._kv.clear()
        for bucket in self._r2.values():
            bucket.close()
        self._r2.clear()

    # --- KV -----------------------------------------------------------------------------
    def kv_namespaces(self, configured: list[str]) -> list[dict[str, Any]]:
        found = {r.ident: r.name for r in resources.listing(self.persist_dir, "kv")}
        rows = [
            {"id": ident, "title": found.get(ident, ident), "stored": ident in found}
            for ident in configured
        ]
        seen = set(configured)
        rows += [{"id": i, "title": n, "stored": True} for i, n in found.items() if i not in seen]
        return rows

    def _namespace(self, ident: str) -> KVNamespaceBinding:
        binding = self._kv.get(ident)
        if binding is not None:
            return binding
        if self.backends.kv is not None:
            binding = self._kv[ident] = open_namespace(ident, self.persist_dir)
            return binding
        if ident not in {r.ident for r in resources.listing(self.persist_dir, "kv")}:
            raise DashboardError(f'No local KV namespace "{ident}" has data yet.', 404)
        path = namespace_path(self.persist_dir, ident)
        if not path.is_file():
            raise DashboardError(f'No local KV namespace "{ident}" has data yet.', 404)
        binding = KVNamespaceBinding(path, namespace_id=ident)
        self._kv[ident] = binding
        return binding

    async def kv_keys(
        self, ident: str, prefix: str, cursor: str | None, limit: int
    ) -> dict[str, Any]:
        result: Any = await self._namespace(ident).list(
            prefix=prefix, cursor=cursor or None, limit=limit
        )
        keys = [
            {
                "name": k["name"],
                "expiration": k.get("expiration"),
                "metadata": jsonable(k.get("metadata")),
            }
            for k in result["keys"]
        ]
        return {
            "keys": keys,
            "complete": bool(result["list_complete"]),
            "cursor": result.get("cursor"),
        }

    async def kv_value(self, ident: str, key: str) -> dict[str, Any]:
        found: Any = await self._namespace(ident).getWithMetadata(key, "arrayBuffer")
        if found["value"] is None:
            raise DashboardError(f'No key "{key}" in KV namespace "{ident}".', 404)
        return {
            "key": key,
            "value": preview(bytes(found["value"])),
            "metadata": jsonable(found["metadata"]),
        }

    # --- R2 -----------------------------------------------------------------------------
    def r2_buckets(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "stored": self.buckets.exists(name)} for name in self.buckets.names()
        ]

    def _bucket(self, name: str) -> Any:
        if self.backends.r2 is not None:
            if name not in self._r2:
                self._r2[name] = open_bucket(name, self.persist_dir)
            return self._r2[name]
        if name not in self.buckets.names():
            raise DashboardError(f'No local R2 bucket "{name}".', 404)
        return self.buckets.get(name).binding

    async def r2_objects(
        self, bucket: str, prefix: str, cursor: str | None, limit: int
    ) -> dict[str, Any]:
        listing: Any = await self._bucket(bucket).list(
            prefix=prefix,
            cursor=cursor or None,
            limit=limit,
            delimiter="/",
            include=["httpMetadata", "customMetadata"],
        )
        return {
            "objects": [_r2_object(o) for o in listing["objects"]],
            "prefixes": list(listing["delimitedPrefixes"]),
            "complete": not listing["truncated"],
            "cursor": listing.get("cursor") if listing["truncated"] else None,
        }

    async def r2_object(self, bucket: str, key: str) -> dict[str, Any]:
        from wranglerpy.services.dashboard.values import PREVIEW

        binding = self._bucket(bucket)
        head = await binding.head(key)
        if head is None:
            raise DashboardError(f'No object "{key}" in R2 bucket "{bucket}".', 404)
        out = _r2_object(head)
        if head.size:
            body: Any = await binding.get(
                key, range={"offset": 0, "length": min(head.size, PREVIEW)}
            )
            data = await body.arrayBuffer() if body is not None else b""
            out["value"] = preview(bytes(data), head.size)
        else:
            out["value"] = preview(b"")
        return out

    # --- Durable Objects ----------------------------------------------------------------
    def do_namespaces(self) -> list[dict[str, Any]]:
        from wranglerpy.bindings.durable_objects import admin

        return [
            {"namespace": ns, "objects": count, "size": size}
            for ns, count, size in admin.namespaces(self.persist_dir)
        ]

    def _do_folder(self, namespace: str) -> Path:
        from wranglerpy.bindings.durable_objects import admin

        if namespace not in {ns for ns, _, _ in admin.namespaces(self.persist_dir)}:
            raise DashboardError(f'No Durable Object namespace "{namespace}" has state.', 404)
        return admin.namespaces_root(self.persist_dir) / namespace

    async def do_objects(self, namespace: str, offset: int, limit: int) -> dict[str, Any]:
        from wranglerpy.bindings.durable_objects import admin

        folder = self._do_folder(namespace)
        infos, total = await asyncio.to_thread(admin.objects_in, folder, offset, limit)
        return {
            "objects": [
                {"id": i.object_id, "name": i.name, "keys": i.keys, "size": i.size} for i in infos
            ],
            "total": total,
            "offset": offset,
        }

    async def do_keys(
        self, namespace: str, object_id: str, after: str | None, limit: int
    ) -> dict[str, Any]:
        from wranglerpy.bindings.durable_objects import admin

        folder = self._do_folder(namespace)
        path = folder / f"{object_id}.sqlite"
        if not admin.HEX_ID.fullmatch(object_id) or not path.is_file():
            raise DashboardError(f'No stored object "{object_id}" in "{namespace}".', 404)
        rows = await asyncio.to_thread(admin.stored_keys, path, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "keys": [{"key": k, "value": jsonable(v)} for k, v in rows],
            "complete": not more,
            "cursor": rows[-1][0] if more and rows else None,
        }

    # --- Queues -------------------------------------------------------------------------
    def queues(self) -> list[dict[str, Any]]:
        from wranglerpy.bindings.queues import open_store, store_path

        if not store_path(self.persist_dir).is_file():
            return []
        store = open_store(self.persist_dir)
        try:
            return [
                {
                    "name": q.name,
                    "created_on": _iso(q.created_on),
                    "ready": q.ready,
                    "delayed": q.delayed,
                    "in_flight": q.in_flight,
                    "producers": list(q.producers),
                    "consumers": list(q.consumers),
                }
                for q in store.queues()
            ]
        finally:
            store.close()

    def queue_messages(self, name: str, limit: int) -> dict[str, Any]:
        from wranglerpy.bindings.queues import open_store, store_path
        from wranglerpy.bindings.queues.codec import decode

        if not store_path(self.persist_dir).is_file():
            raise DashboardError(f'No local queue "{name}".', 404)
        store = open_store(self.persist_dir)
        try:
            if not store.exists(name):
                raise DashboardError(f'No local queue "{name}".', 404)
            rows = store.peek(name, limit)
        finally:
            store.close()
        messages = []
        for message, state in rows:
            try:
                body = jsonable(decode(message.body, message.content_type))
            except (ValueError, UnicodeDecodeError):
                body = {"$bytes": preview(message.body)}
            messages.append(
                {
                    "id": message.id,
                    "sent": _iso(message.sent_ms / 1000),
                    "state": state,
                    "attempts": message.attempts,
                    "content_type": message.content_type,
                    "body": body,
                }
            )
        return {"messages": messages, "limit": limit}

    # --- Workflows ----------------------------------------------------------------------
    def workflows(self) -> list[dict[str, Any]]:
        from wranglerpy.bindings.workflows import open_store, store_path

        if not store_path(self.persist_dir).is_file():
            return []
        store = open_store(self.persist_dir)
        try:
            return [
                {"name": name, "counts": counts, "instances": sum(counts.values())}
                for name, counts in store.workflows()
            ]
        finally:
            store.close()

    def workflow_instances(self, workflow: str, status: str | None, limit: int) -> dict[str, Any]:
        from wranglerpy.bindings.workflows import open_store, store_path

        if not store_path(self.persist_dir).is_file():
            return {"instances": []}
        store = open_store(self.persist_dir)
        try:
            rows = store.instances(workflow, status or None, limit)
            out = []
            for row in rows:
                steps = store.steps(workflow, row.id)
                out.append(
                    {
                        "id": row.id,
                        "status": row.status,
                        "created_on": _iso(row.created_on),
                        "modified_on": _iso(row.modified_on),
                        "params": _clip(row.params),
                        "output": _clip(row.output),
                        "error": _clip(row.error),
                        "steps": [
                            {
                                "name": s.name,
                                "kind": s.kind,
                                "state": s.state,
                                "attempts": s.attempts,
                                "error": _clip(s.error),
                            }
                            for s in steps[:100]
                        ],
                    }
                )
        finally:
            store.close()
        return {"instances": out, "limit": limit}


def _clip(text: str | None, limit: int = 4000) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text)} chars)"


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).isoformat(timespec="seconds")


def _r2_object(obj: Any) -> dict[str, Any]:
    return {
        "key": obj.key,
        "size": obj.size,
        "etag": obj.etag,
        "uploaded": obj.uploaded.isoformat(timespec="seconds"),
        "httpMetadata": jsonable(dict(obj.httpMetadata)),
        "customMetadata": jsonable(dict(obj.customMetadata)),
    }
