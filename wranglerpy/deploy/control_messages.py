"""The edge's control requests and answers, typed: what the CLI may ask the daemon.

A request travels as a ``CONTROL`` frame of the wire protocol (``wire.frames.ControlHead``:
the request's ``OP`` and its fields by name), its answer as the wire's RESULT (the answer's
fields by name, see ``to_answer``), or an error by type name and message (see ``control``).
Both sides build and read them only through these classes, so an operation's fields, and
its answer's, are written down once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from wranglerpy.errors import DeployError
from wranglerpy.services.info import ServicesInfo
from wranglerpy.wire.frames import ControlHead


@dataclass(frozen=True)
class StatusRequest:
    OP: ClassVar[str] = "status"


@dataclass(frozen=True)
class DeployRequest:
    """Switch ``version``'s worker to it (a deploy, rollback or secret change)."""

    OP: ClassVar[str] = "deploy"
    version: str
    message: str = ""
    source: str = "deploy"
    # A gradual deployment (``versions deploy``): [[version id, percentage], ...] of one
    # worker; ``version`` is then its first version.
    versions: list[list[Any]] = field(default_factory=list)


@dataclass(frozen=True)
class TriggerRequest:
    """Run ``worker``'s scheduled handler now (``cron``: default its first cron)."""

    OP: ClassVar[str] = "scheduled"
    worker: str
    cron: str | None = None


@dataclass(frozen=True)
class DeleteRequest:
    OP: ClassVar[str] = "delete"
    worker: str


@dataclass(frozen=True)
class StopRequest:
    OP: ClassVar[str] = "stop"


ControlRequest = StatusRequest | DeployRequest | TriggerRequest | DeleteRequest | StopRequest
_KINDS: dict[str, type[Any]] = {
    k.OP: k for k in (StatusRequest, DeployRequest, TriggerRequest, DeleteRequest, StopRequest)
}


# The types a request's fields may have, by annotation (a hostile or broken client gets a
# one-line error here, not a failure deep in the daemon).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "str | None": (str, type(None)),
    "list[list[Any]]": (list,),
}


def encode_request(request: ControlRequest, deadline: float | None = None) -> ControlHead:
    """The request as the head of a CONTROL call (``deadline``: unix seconds after which the
    CLI no longer waits, so a daemon busy until then refuses it rather than runs it)."""
    return ControlHead(deadline=deadline, op=request.OP, fields=asdict(request))


def decode_request(head: ControlHead) -> ControlRequest:
    """The typed request in ``head``; a DeployError naming what is wrong otherwise."""
    kind = _KINDS.get(head.op) if isinstance(head.op, str) else None
    if kind is None:
        raise DeployError(f"unknown control operation {head.op!r}")
    if not isinstance(head.fields, dict):
        raise DeployError(f"bad {kind.OP} request: its fields are not a map")
    given = {f.name: head.fields[f.name] for f in fields(kind) if f.name in head.fields}
    for f in fields(kind):
        allowed = _FIELD_TYPES.get(str(f.type), ())
        if f.name in given and allowed and not isinstance(given[f.name], allowed):
            raise DeployError(f"bad {kind.OP} request: {f.name} is not a {f.type}")
    try:
        request: ControlRequest = kind(**given)
    except TypeError as exc:
        raise DeployError(f"bad {kind.OP} request: {exc}") from None
    return request


@dataclass(frozen=True)
class WorkerState:
    """One deployed worker as the edge serves it now."""

    version: str  # the main version (the larger share)
    # Every version served with its percentage: [[id, percentage], ...].
    versions: list[list[Any]] = field(default_factory=list)
    processes: list[int] = field(default_factory=list)
    url: str = ""
    routes: list[str] = field(default_factory=list)
    placement: str | None = None


@dataclass(frozen=True)
class EdgeState:
    """The answer to ``status`` (and part of ``deploy``'s)."""

    pid: int
    ip: str
    port: int
    simulate_latency: bool = False
    workers: dict[str, WorkerState] = field(default_factory=dict)
    draining: list[str] = field(default_factory=list)
    processes: int = 1  # worker processes per deployed worker (``--processes``)
    # The S3/OpenAI services beside it; None until they have started (or failed to).
    services: ServicesInfo | None = None

    @staticmethod
    def from_answer(answer: dict[str, Any]) -> EdgeState:
        workers = {
            name: WorkerState(**{k: v for k, v in w.items() if k in _WORKER_FIELDS})
            for name, w in (answer.get("workers") or {}).items()
        }
        return EdgeState(
            pid=int(answer["pid"]),
            ip=str(answer["ip"]),
            port=int(answer["port"]),
            simulate_latency=bool(answer.get("simulate_latency")),
            workers=workers,
            draining=list(answer.get("draining") or []),
            processes=int(answer.get("processes") or 1),
            services=ServicesInfo.from_json(answer.get("services")),
        )

    def to_answer(self) -> dict[str, Any]:
        return asdict(self)


_WORKER_FIELDS = {f.name for f in fields(WorkerState)}


@dataclass(frozen=True)
class DeployAnswer:
    """The answer to ``deploy``: the deployment recorded, how long the switch took, and the
    edge's state after it."""

    deployment: str
    seconds: float
    state: EdgeState

    @staticmethod
    def from_answer(answer: dict[str, Any]) -> DeployAnswer:
        return DeployAnswer(
            str(answer["deployment"]),
            float(answer["seconds"]),
            EdgeState.from_answer(answer["state"]),
        )

    def to_answer(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TriggerAnswer:
    """The answer to ``scheduled``: the cron the handler ran with ("" if the worker has none)."""

    cron: str = ""

    @staticmethod
    def from_answer(answer: dict[str, Any]) -> TriggerAnswer:
        return TriggerAnswer(str(answer.get("cron") or ""))

    def to_answer(self) -> dict[str, Any]:
        return asdict(self)


# What the daemon answers each request with (``delete`` and ``stop``: nothing).
ControlAnswer = EdgeState | DeployAnswer | TriggerAnswer | None
