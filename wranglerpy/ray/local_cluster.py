"""A Ray cluster of several nodes on 127.0.0.1, for tests, benchmarks and trying things out.

Each node is one ``ray start --block`` process in its own session with its own ports, temp
folder, custom resource (``node_a``...) and Serve proxy port (Serve runs a proxy on every
node; on one machine they cannot share one port), so a test can pin deployments to a node,
reach each node's proxy, and kill exactly one node. A node's processes are every process of
its session and every process running from its temp folder (Ray's workers sit in process
groups of their own); they are signalled by pid, never by ``ray stop`` (which stops every
Ray process of the machine, other people's included).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Ray refuses an object store smaller than about 75 MB; a bit more leaves room for bodies.
OBJECT_STORE_BYTES = 100 * 1024 * 1024
START_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ray_executable() -> str:
    """The ``ray`` script installed beside this Python (the same venv as wranglerpy)."""
    import sys

    candidate = Path(sys.executable).parent / "ray"
    return str(candidate) if candidate.exists() else "ray"


def _refers_to(pid: int, folder: str) -> bool:
    """Whether process ``pid`` runs from ``folder``: its command line names it, or one of its
    open files or its working directory lies under it (Ray's workers rename themselves,
    ``ray::ServeReplica:...``, but keep their log files under the node's temp folder open)."""
    proc = Path("/proc") / str(pid)
    try:
        if folder in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
            return True
        if os.readlink(proc / "cwd").startswith(folder):
            return True
        for fd in (proc / "fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd).startswith(folder):
                    return True
    except OSError:  # gone, or not ours to read
        return False
    return False


def processes_under(folder: Path) -> list[int]:
    """Every process of this machine that runs from ``folder`` (this one excepted)."""
    mark = str(folder) + os.sep
    own = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != own and _refers_to(int(entry.name), mark):
            found.append(int(entry.name))
    return sorted(found)


@dataclass
class Node:
    name: str  # also its custom resource: {name: 100}
    process: subprocess.Popen[bytes]
    log: Path
    temp: Path  # its --temp-dir: every process of the node keeps files open under it
    http_port: int = 0  # where Serve's proxy on this node listens (EveryNode)
    started_s: float = 0.0
    killed_at: float = 0.0  # time.monotonic() of the first SIGKILL sent by kill()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def session_pids(self) -> list[int]:
        """The processes of the session ``start_new_session`` made (Ray moves workers to
        process groups of their own, but not out of the session)."""
        out = subprocess.run(
            ["ps", "-o", "pid=", "--sid", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def pids(self) -> list[int]:
        """Every process of this node: its session, and whatever runs from its temp folder."""
        return sorted(set(self.session_pids()) | set(processes_under(self.temp)))

    def kill(self, sig: int = signal.SIGKILL) -> list[int]:
        """Signal every process of this node at once, by pid (a node lost whole, as when its
        machine dies); the pids signalled. SIGKILL is repeated until none is left."""
        signalled: set[int] = set()
        for _ in range(5 if sig == signal.SIGKILL else 1):
            pids = self.pids()
            if not pids:
                break
            if sig == signal.SIGKILL and not signalled:
                self.killed_at = time.monotonic()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            signalled.update(pids)
            if sig != signal.SIGKILL:
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(1)  # reap our child, so it stops being listed
            time.sleep(0.1)
        return sorted(signalled)

    def stop(self, grace: float = 10.0) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        self.kill(signal.SIGKILL)  # what the node started lives on otherwise
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)


@dataclass
class LocalCluster:
    """A head plus worker nodes; ``address`` is what ``ray.init``/``--ray-address`` take."""

    root: Path
    gcs_port: int
    http_port: int  # the head's Serve proxy (``--ray-http-port``); worker nodes get their own
    nodes: list[Node] = field(default_factory=list)
    num_cpus: int = 1
    node_ip: str = "127.0.0.1"
    # Ray's servers listen on every interface: each cluster gets its own token, so nothing
    # else reaching this machine (nor another cluster) can join or drive it.
    token: str = field(default_factory=lambda: secrets.token_hex(32))

    @property
    def auth_env(self) -> dict[str, str]:
        """What a driver (``ray.init``, the CLI) needs in its environment to join."""
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.token}

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gcs_port}"

    @staticmethod
    def create(root: Path | None = None) -> LocalCluster:
        # Short: Ray puts unix sockets under the temp folder (107-byte path limit).
        folder = root or Path(tempfile.mkdtemp(prefix="wrp-ray-"))
        return LocalCluster(folder, free_port(), free_port())

    def _temp_dir(self, name: str) -> Path:
        """A fresh temp folder per start: a node started again under the same name (as after
        a kill) is told apart from what is left of the old one."""
        temp = self.root / name
        count = 1
        while temp.exists():
            count += 1
            temp = self.root / f"{name}.{count}"
        temp.mkdir(parents=True)
        return temp

    def _common_args(self, name: str, temp: Path) -> list[str]:
        return [
            "--block",
            f"--node-ip-address={self.node_ip}",
            f"--num-cpus={self.num_cpus}",
            f"--object-store-memory={OBJECT_STORE_BYTES}",
            f'--resources={{"{name}": 100}}',
            f"--temp-dir={temp}",
            f"--node-manager-port={free_port()}",
            f"--object-manager-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--dashboard-agent-grpc-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}",
            "--disable-usage-stats",
        ]

    def _spawn(self, name: str, args: list[str], temp: Path, http_port: int) -> Node:
        log = self.root / f"{name}.log"
        env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", **self.auth_env)
        # On a loaded machine a node's agents take longer to start than the raylet waits for
        # their port files (15 s: it then aborts the node): wait up to 3 minutes.
        env.setdefault("RAY_raylet_start_wait_time_s", "180")
        env.setdefault("RAY_agent_register_timeout_ms", "180000")
        if name != "head":
            # Serve's proxy on a worker node reads this in its own process (inherited from
            # the raylet): one machine, so each node's proxy gets a port of its own.
            env["RAY_SERVE_WORKER_PROXY_HTTP_PORT"] = str(http_port)
        with log.open("ab") as out:
            process = subprocess.Popen(
                [ray_executable(), "start", *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopped alone, by its pid
                env=env,
            )
        node = Node(name, process, log, temp, http_port)
        self.nodes.append(node)
        return node

    def start_head(self, name: str = "head") -> Node:
        temp = self._temp_dir(name)
        args = [
            "--head",
            f"--port={self.gcs_port}",
            f"--ray-client-server-port={free_port()}",
            "--include-dashboard=false",
            *self._common_args(name, temp),
        ]
        return self._spawn(name, args, temp, self.http_port)

    def add_node(self, name: str) -> Node:
        temp = self._temp_dir(name)
        args = [f"--address={self.address}", *self._common_args(name, temp)]
        return self._spawn(name, args, temp, free_port())

    def wait_for_nodes(self, count: int, timeout: float = START_SECONDS) -> None:
        """Block until ``count`` nodes are alive in the cluster (asked through ``ray``)."""
        self._wait(lambda alive: len(alive) >= count, f"{count} Ray nodes", timeout)

    def wait_for(self, node: Node, timeout: float = START_SECONDS) -> None:
        """Block until ``node`` itself is alive in the cluster: told apart by its temp folder
        (its object store's socket lies there), so a dead node of the same name, which the
        GCS still lists as alive for a while, does not count."""
        mark = str(node.temp) + os.sep

        def joined(alive: list[dict[str, Any]]) -> bool:
            return any(str(n.get("ObjectStoreSocketName", "")).startswith(mark) for n in alive)

        self._wait(joined, f"Ray node {node.name}", timeout)

    def _wait(self, done: Any, what: str, timeout: float) -> None:
        import ray

        deadline = time.monotonic() + timeout
        while True:
            for node in self.nodes:
                if not node.alive():
                    raise RuntimeError(f"Ray node {node.name} exited; see {node.log}")
            with contextlib.suppress(Exception):
                if ray.is_initialized():
                    if done([n for n in ray.nodes() if n.get("Alive")]):
                        return
                else:
                    self.join_as_driver()
                    ray.init(address=self.address, namespace="wranglerpy", log_to_driver=False)
                    continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not come up; see {self.root}")
            time.sleep(0.2)

    def join_as_driver(self) -> None:
        """Give this process (and the CLI processes it starts) the cluster's token."""
        os.environ.update(self.auth_env)
        import importlib

        raylet: Any = importlib.import_module("ray._raylet")
        raylet.Config.initialize("")  # Ray read its config at import, before the token was set

    def start(self, workers: tuple[str, ...] = ("node_a", "node_b")) -> None:
        """The head, then each worker node once the one before it joined: on a busy machine,
        nodes started together miss Ray's own start-up deadlines (a raylet waits 15 s for
        its agent)."""
        self.start_head()
        self.wait_for_nodes(1)
        for count, name in enumerate(workers, start=2):
            self.join(name, count)

    def join(self, name: str, count: int, attempts: int = 3) -> Node:
        """Add worker node ``name`` and wait until ``count`` nodes are alive; a node that dies
        while starting (a missed start-up deadline) is started again."""
        for attempt in range(attempts):
            node = self.add_node(name)
            try:
                self.wait_for(node)
                self.wait_for_nodes(count)
                return node
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                node.stop()
                self.nodes.remove(node)
        raise AssertionError("unreachable")

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def stop(self) -> None:
        for node in reversed(self.nodes):  # worker nodes before the head
            node.stop()


@contextlib.contextmanager
def local_cluster(workers: tuple[str, ...] = ("node_a", "node_b")) -> Iterator[LocalCluster]:
    """A head and ``workers`` nodes, all stopped (by pid) on exit."""
    cluster = LocalCluster.create()
    try:
        cluster.start(workers)
        yield cluster
    finally:
        cluster.stop()
