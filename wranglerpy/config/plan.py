"""Pure planning over loaded configs: which port each worker gets, and in which order
workers start so that service-binding targets come up before the workers that call them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from wranglerpy.config.schema import ServiceBinding, WorkerConfig
from wranglerpy.errors import ConfigError

DEFAULT_PORT = 8787
_MAX_PORT = 65535


ANY_WORKER = "*"


def parse_worker_ports(values: Sequence[str], names: Sequence[str]) -> dict[str, int]:
    """``--worker-port NAME=PORT`` values -> ``{NAME: PORT}``; NAME ``*`` is every worker not
    otherwise given a port, and PORT 0 any free port."""
    ports: dict[str, int] = {}
    for value in values:
        name, sep, number = value.rpartition("=")
        if not sep or not name or not number.isdigit() or int(number) > _MAX_PORT:
            raise ConfigError(
                f"--worker-port {value!r}: expected NAME=PORT (PORT 0-{_MAX_PORT}; NAME * for "
                "every other worker)"
            )
        if name != ANY_WORKER and name not in names:
            raise ConfigError(
                f"--worker-port {value!r}: no worker named {name!r} (workers: {', '.join(names)})"
            )
        ports[name] = int(number)
    return ports


def assign_ports(
    workers: Sequence[WorkerConfig],
    primary_port: int | None,
    is_free: Callable[[int], bool],
    worker_ports: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Worker name -> port.

    The first worker is the primary: it gets ``primary_port`` (the ``--port`` flag), else its
    ``worker_ports`` entry, else its ``[dev] port``, else 8787. Every other worker gets its
    ``worker_ports`` entry (``--worker-port NAME=PORT``; ``*`` for every worker not named),
    else keeps its own ``[dev] port``; the rest get the next free ports above the primary's,
    in config order. Two workers asking for the same port is a ConfigError. Ports named
    explicitly are trusted (binding them reports a clash); only picked ports are checked with
    ``is_free``. Port 0 means "any free port": it is returned as 0 and the caller's bind
    chooses.
    """
    if not workers:
        return {}
    overrides = dict(worker_ports or {})
    fallback = overrides.pop(ANY_WORKER, None)

    def override(worker: WorkerConfig) -> int | None:
        return overrides.get(worker.name, fallback)

    def configured(worker: WorkerConfig) -> int | None:
        port = override(worker)
        return port if port is not None else worker.dev.port

    first = workers[0]
    primary = primary_port if primary_port is not None else configured(first)
    if primary is None:
        primary = DEFAULT_PORT
    ports: dict[str, int] = {first.name: primary}
    taken: set[int] = {primary} - {0}
    owner: dict[int, str] = {primary: first.name}
    # Explicit ports are reserved up front so an auto-picked port never steals one from a
    # worker later in the list.
    wanted: dict[str, int | None] = {}
    for worker in workers[1:]:
        port = configured(worker)
        if port is not None and port != 0 and port in taken:
            # Two configs asking for one port is a mistake to fix, not to paper over: moving
            # one silently sends requests meant for it to the other worker.
            if override(worker) is not None:
                raise ConfigError(
                    f"--worker-port {worker.name}={port}: port {port} is already the port of "
                    f"worker {owner[port]!r}"
                )
            raise ConfigError(
                f"[dev] port {port} is already the port of worker {owner[port]!r}; "
                "give each config its own port, or remove one of them",
                file=str(worker.config_path),
                key="dev.port",
            )
        wanted[worker.name] = port
        if port:
            owner[port] = worker.name
            taken.add(port)
    cursor = (primary or DEFAULT_PORT) + 1
    for worker in workers[1:]:
        port = wanted[worker.name]
        if port is None:
            while cursor <= _MAX_PORT and (cursor in taken or not is_free(cursor)):
                cursor += 1
            if cursor > _MAX_PORT:
                raise ConfigError(f"no free port left above {primary} for worker {worker.name!r}")
            port = cursor
            taken.add(port)
        ports[worker.name] = port
    return ports


def service_target(binding: ServiceBinding, workers: Sequence[WorkerConfig]) -> WorkerConfig | None:
    """The worker in ``workers`` that ``binding`` reaches, if it is one of them.

    A binding names a worker by its full name (``api-production``) or by its base name plus
    ``environment`` (``service = "api"``, ``environment = "production"``).
    """
    for worker in workers:
        if worker.name == binding.service:
            return worker
    if binding.environment:
        for worker in workers:
            if worker.base_name == binding.service and worker.env_name == binding.environment:
                return worker
    return None


def dependency_order(
    workers: Sequence[WorkerConfig], *, allow_cycles: bool = False
) -> list[WorkerConfig]:
    """``workers`` with service-binding targets before the workers that bind them.

    Otherwise config order is kept. Bindings to workers outside the set, and a worker
    binding itself, do not constrain the order. A cycle raises ConfigError naming it, unless
    ``allow_cycles`` (``dev``: mutual bindings work in ``wrangler dev``, each worker reaching
    the other once both are up), where the binding that closes the cycle is not a constraint.
    """
    ordered: list[WorkerConfig] = []
    done: set[str] = set()
    visiting: list[str] = []
    position = {w.name: i for i, w in enumerate(workers)}

    def visit(worker: WorkerConfig) -> None:
        if worker.name in done:
            return
        if worker.name in visiting:
            if allow_cycles:
                return
            cycle = [*visiting[visiting.index(worker.name) :], worker.name]
            raise ConfigError(f"service bindings form a cycle: {' -> '.join(cycle)}")
        visiting.append(worker.name)
        targets = {
            t.name: t
            for t in (service_target(binding, workers) for binding in worker.services)
            if t is not None and t.name != worker.name
        }
        # Targets start in config order, not binding order, so the result is stable.
        for target in sorted(targets.values(), key=lambda t: position[t.name]):
            visit(target)
        visiting.pop()
        done.add(worker.name)
        ordered.append(worker)

    for worker in workers:
        visit(worker)
    return ordered
