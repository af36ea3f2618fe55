"""Durable Objects on the Ray target: every object is one named actor in the cluster.

An object (worker, class, id) of version V runs in the actor
``wranglerpy-do:<worker>:<V>:<class>:<id>``, created with ``get_if_exists`` so callers on any
node reach the one live instance. The actor hosts the user's class with the dev
implementation (``bindings.durable_objects``: ``ObjectHost``, gates, storage, alarms) in the
version's working directory, with the worker's whole ``env`` built as a replica builds it.

Storage (``object_images.py``): the object's SQLite file lives on the actor's node as a cache;
its image is saved to the cluster's primary before any result leaves the actor (the output
gate), and every new instance starts from the last saved image. The actor is detached and
restarted by Ray (``max_restarts=-1``) on another node when its node dies; it is placed near
its first caller when that node has room (a *soft* node affinity: Ray may place it
elsewhere, and must when that node is gone), as Cloudflare places an object near its first
request, and leaves after it has been idle (evicted) with no alarm set.

A call that was running when the object's node died fails (as a call to a reset object does
on Cloudflare); the next call reaches the restarted instance. A call sent to an instance that
had left because it was idle never ran, so it is sent once more to a new instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from wranglerpy.bindings.durable_objects.errors import Error
from wranglerpy.bindings.durable_objects.ids import unique_key
from wranglerpy.bindings.durable_objects.paths import metadata_file, object_file
from wranglerpy.bindings.durable_objects.routing import ObjectAddress, encode_result
from wranglerpy.ray.cluster import NAMESPACE
from wranglerpy.ray.object_images import object_key
from wranglerpy.runtime import tracing

OBJECT_PREFIX = "wranglerpy-do"
SAVE_INTERVAL = 0.5  # writes made outside a call (alarms, waitUntil) are saved this often
HANDLES_KEPT = 1024  # actor handles cached per process
TARGET_TTL = 2.0  # how long another worker's recorded version is trusted before reading again


@dataclass(frozen=True)
class ObjectTarget:
    """How to start the objects of one worker version (recorded by ``deploy``)."""

    worker: str
    version: str
    spec: str  # the worker's encoded WorkerSpec
    source: str
    services: dict[str, str] = field(default_factory=dict)
    runtime_env: dict[str, Any] = field(default_factory=dict)


def actor_name(target: ObjectTarget, address: ObjectAddress) -> str:
    return (
        f"{OBJECT_PREFIX}:{address.worker}:{target.version}:"
        f"{address.class_name}:{address.object_id}"
    )


def register_target(target: ObjectTarget) -> None:
    """Record where ``target.worker``'s objects start (deploy calls this for each version)."""
    import ray

    from wranglerpy.ray.primary import primary_actor

    ray.get(primary_actor().set_object_target.remote(target.worker, asdict(target)))


def _intentional_exit(exc: BaseException) -> bool:
    """True for a call sent to an actor that left on its own (idle): it never ran."""
    text = str(exc)
    return "INTENDED_USER_EXIT" in text or "exit_actor()" in text


class RayRouter:
    """The routing ``Locator`` and ``Courier`` of a process on the cluster: every object is
    an actor (see the module's docstring). ``own``: the version this process runs, used for
    its own worker's objects; other workers' come from what ``deploy`` recorded."""

    def __init__(self, own: ObjectTarget | None = None) -> None:
        self._own = own
        self._targets: dict[str, tuple[float, ObjectTarget]] = {}  # worker -> (read at, target)
        self._handles: dict[str, Any] = {}
        self.created = 0

    def owner(self, address: ObjectAddress) -> str | None:
        return address.worker  # never this process; send() finds the actor

    async def _target(self, worker: str) -> ObjectTarget:
        """This process's own version for its worker; for another worker, what ``deploy``
        recorded, read again after ``TARGET_TTL`` seconds so a new version is followed."""
        if self._own is not None and worker == self._own.worker:
            return self._own
        cached = self._targets.get(worker)
        if cached is not None and time.monotonic() - cached[0] < TARGET_TTL:
            return cached[1]
        from wranglerpy.ray.primary import primary_actor

        found = await primary_actor().object_target.remote(worker)
        if found is None:
            raise Error(
                f'Durable Objects of worker "{worker}" are not deployed on this Ray '
                "cluster. Deploy that worker first."
            )
        target = ObjectTarget(**found)
        self._targets[worker] = (time.monotonic(), target)
        return target

    def _handle(self, name: str, target: ObjectTarget, address: ObjectAddress) -> Any:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        handle = self._handles.get(name)
        if handle is not None:
            return handle
        near = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=True)
        handle = (
            _actor_class()
            .options(
                name=name,
                namespace=NAMESPACE,
                get_if_exists=True,
                lifetime="detached",
                max_restarts=-1,
                max_task_retries=0,
                num_cpus=0,
                max_concurrency=1000,
                runtime_env=dict(target.runtime_env),
                scheduling_strategy=near,
            )
            .remote(asdict(target), address.class_name, address.object_id, address.name)
        )
        if len(self._handles) >= HANDLES_KEPT:
            self._handles.pop(next(iter(self._handles)))
        self._handles[name] = handle
        self.created += 1
        return handle

    async def send(self, owner: str, address: ObjectAddress, call: bytes) -> bytes:
        from ray.exceptions import RayActorError

        target = await self._target(address.worker)
        name = actor_name(target, address)
        for attempt in (1, 2):
            handle = await asyncio.to_thread(self._handle, name, target, address)
            try:
                reply: bytes = await handle.call.remote(call, tracing.outgoing())
                return reply
            except RayActorError as exc:
                self._handles.pop(name, None)
                if attempt == 1 and _intentional_exit(exc):
                    continue  # the instance had left (idle) before it took the call
                raise Error(
                    f'Durable Object "{address.class_name}" {address.object_id[:12]}… was '
                    "reset: the node running it went away. Send the call again."
                ) from None
        raise AssertionError("unreachable")

    async def upgrade(self, owner: str, address: ObjectAddress, request: Any) -> Any:
        """``stub.fetch`` of a WebSocket upgrade: sockets cannot cross actors here."""
        raise Error(
            "WebSocket upgrades to a Durable Object are not available on the Ray target yet "
            "(see wranglerpy/ray/README.md); use RPC or a plain fetch."
        )


_ACTOR_CLASS: Any = None


def _actor_class() -> Any:
    global _ACTOR_CLASS  # noqa: PLW0603 - made once per process (ray.remote exports it)
    if _ACTOR_CLASS is None:
        import ray

        _ACTOR_CLASS = ray.remote(ObjectActor)
    return _ACTOR_CLASS


def route_objects(spec: Any, encoded: str, source: str, services: Mapping[str, str]) -> None:
    """In a replica (or an object's actor): send this process's Durable Object calls to the
    objects' actors. ``spec`` is the decoded ``WorkerSpec`` of ``encoded``."""
    from wranglerpy.bindings.durable_objects import route_through

    config = spec.config
    if not config.durable_objects:
        return
    version = spec.version.id if spec.version is not None else "dev"
    own = ObjectTarget(config.name, version, encoded, source, dict(services), _runtime_env())
    route_through(RayRouter(own))


def _runtime_env() -> dict[str, Any]:
    """This process's Ray runtime environment (its working_dir is the version's folder)."""
    try:
        import ray

        if not ray.is_initialized():
            return {}
        env = ray.get_runtime_context().runtime_env
        return {k: env[k] for k in ("working_dir", "env_vars") if k in env}
    except Exception:  # noqa: BLE001 - outside a cluster: objects start without one
        return {}


class ObjectActor:
    """The actor of one object. ``call`` runs one encoded call (``routing.encode_call`` or
    ``encode_fetch``) through the dev host and saves the storage before answering."""

    def __init__(
        self,
        target: dict[str, Any],
        class_name: str,
        object_id: str,
        name: str | None,
        primary: Any = None,  # tests pass a stand-in
    ) -> None:
        from wranglerpy.bindings.durable_objects.host import ObjectHost
        from wranglerpy.config.durable_objects import class_storage
        from wranglerpy.ray.primary import primary_actor
        from wranglerpy.ray.replica import WorkerReplica

        self.target = ObjectTarget(**target)
        self.class_name = class_name
        self.object_id = object_id
        self.name = name
        self._primary = primary if primary is not None else primary_actor()
        self.root = Path(tempfile.mkdtemp(prefix="wrp-do-"))
        namespace = unique_key(self.target.worker, class_name)
        self.key = object_key(namespace, object_id)
        self.storage_path = object_file(self.root, namespace, object_id)
        self.alarms_path = metadata_file(self.root)
        holder = _own_name()
        opened = _get(self._primary.object_open.remote(self.key, holder))
        self.epoch, storage, alarms, previous = opened
        if previous and previous != holder:
            _stop(previous)  # an older version's instance: one live instance per object
        _restore(self.storage_path, storage)
        _restore(self.alarms_path, alarms, reset_leases=True)
        self._saved = (storage, alarms)
        replica = WorkerReplica(self.target.spec, self.target.source, self.target.services)
        self.sink = replica.sink
        config = _config(self.target.spec)
        self.host = ObjectHost(
            self.target.worker,
            self.root,
            class_storage(config.migrations),
            emit=self.sink.emit,
            log=self._log,
        )
        self.host.limits = config.limits  # each event an invocation with the worker's [limits]
        self.host.env = replica.app.env
        if replica.app.loaded is not None:
            self.host.bind_module(replica.app.loaded.module)
        self._save_lock = asyncio.Lock()
        self._fenced = False
        self._started = False
        self._tasks: set[asyncio.Future[Any]] = set()  # kept: the loop holds tasks weakly
        self._kick()

    def _kick(self) -> None:
        """Have the actor's event loop start (alarms, eviction, saves) without waiting for a
        call: an instance restarted on another node may have an alarm to run."""
        with contextlib.suppress(Exception):
            import ray

            if ray.is_initialized():
                ray.get_runtime_context().current_actor.start.remote()

    def _log(self, level: str, message: str) -> None:
        self.sink.emit(
            {"type": "log", "worker": self.target.worker, "level": level, "message": message}
        )

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.host.start()
        self._spawn_saver()

    def _spawn_saver(self) -> None:
        task = asyncio.ensure_future(self._keep_saving())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def call(self, call: bytes, trace: str | None = None) -> bytes:
        """Run one call; the answer leaves only once the storage it wrote is saved."""
        await self.start()
        if self._fenced:
            return encode_result(error=Error(_FENCED))
        with tracing.caller(trace):
            reply = await self.host.handle_call(self.class_name, self.object_id, self.name, call)
        try:
            await self.save()
        except Error as exc:
            return encode_result(error=exc)
        except Exception:  # noqa: BLE001 - the primary unreachable: the result must not leave
            return encode_result(error=Error(_NOT_SAVED))
        return reply

    async def save(self) -> None:
        """Save the storage's and the alarm index's images to the primary, when changed."""
        async with self._save_lock:
            images = (_image(self.storage_path), _image(self.alarms_path))
            if images == self._saved:
                return
            alarm_ms = self.host.metadata.get_alarm(
                unique_key(self.target.worker, self.class_name), self.object_id
            )
            ok = await self._primary.object_save.remote(self.key, self.epoch, *images, alarm_ms)
            if not ok:
                self._fenced = True
                self._retire_soon()
                raise Error(_FENCED)
            self._saved = images

    def idle(self) -> bool:
        """Evicted (idle past the timeout) and no alarm to run: the actor may leave."""
        namespace = unique_key(self.target.worker, self.class_name)
        return (
            not self.host.live and self.host.metadata.get_alarm(namespace, self.object_id) is None
        )

    async def _keep_saving(self) -> None:
        while not self._fenced:
            await asyncio.sleep(SAVE_INTERVAL)
            try:
                await self.save()
            except Error:
                return
            except Exception as exc:  # noqa: BLE001 - the primary restarting: try again
                self._log("warn", f"Durable Object storage not saved yet: {exc}")
                continue
            if self.idle():
                self._retire_soon()
                return

    def _retire_soon(self) -> None:
        with contextlib.suppress(Exception):
            import ray

            if ray.is_initialized():
                ray.get_runtime_context().current_actor.retire.remote()

    async def retire(self) -> None:
        """Leave the cluster (idle, or replaced by a newer instance)."""
        import ray

        if not self._fenced:
            with contextlib.suppress(Error):
                await self.save()
            if not self.idle():  # a call came in meanwhile: stay
                self._spawn_saver()
                return
        # No await from the check to the exit: a call queued now never ran (the caller
        # sends it again to a new instance).
        shutil.rmtree(self.root, ignore_errors=True)
        _quiet_exit()
        ray.actor.exit_actor()


_NOT_SAVED = (
    "Durable Object storage could not be saved (the cluster's primary is unreachable); the "
    "call's writes may be lost. Send the call again."
)
_FENCED = (
    "Durable Object reset: a newer instance of this object took over (a new version was "
    "deployed, or this instance's node was cut off). Send the call again."
)


def _own_name() -> str:
    """This actor's name ("" outside a cluster)."""
    with contextlib.suppress(Exception):
        import ray

        if ray.is_initialized():
            return str(ray.get_runtime_context().get_actor_name() or "")
    return ""


def _stop(name: str) -> None:
    """Stop the actor ``name`` (another version's instance of this object), if it runs. Its
    calls in flight fail, as a Durable Object's do on Cloudflare when its code is updated."""
    with contextlib.suppress(Exception):  # already gone
        import ray

        ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)


def _quiet_exit() -> None:
    """Stop sending output to the tail actor: while the process exits, tasks being destroyed
    still log, and a Ray call from a disconnected worker would start a second Ray there."""
    import logging
    import sys

    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    logging.getLogger().handlers[:] = [logging.StreamHandler(sys.__stderr__)]


def _get(ref: Any) -> Any:
    import ray

    if isinstance(ref, ray.ObjectRef):
        return ray.get(ref)
    return ref.result()  # a test's stand-in answers with a finished future


def _config(spec: str) -> Any:
    from wranglerpy.runtime.spec import WorkerSpec

    return WorkerSpec.decode(spec).config


def _image(path: Path) -> bytes | None:
    """The committed content of the SQLite file at ``path`` (None when there is none)."""
    if not path.exists():
        return None
    from wranglerpy.bindings.d1.store import sqlite_image

    conn = sqlite3.connect(path)
    try:
        return sqlite_image(conn)
    finally:
        conn.close()


def _restore(path: Path, image: bytes | None, *, reset_leases: bool = False) -> None:
    if image is None:
        return
    from wranglerpy.private_paths import private_dir

    private_dir(path.parent)
    path.write_bytes(image)
    if reset_leases:
        # Alarms the lost instance had claimed run again here (at least once, as on Cloudflare).
        conn = sqlite3.connect(path)
        try:
            conn.execute("UPDATE alarms SET lease_until = 0")
            conn.commit()
        finally:
            conn.close()
