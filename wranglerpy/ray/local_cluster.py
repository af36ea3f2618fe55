"""A Ray cluster of several nodes on 127.0.0.1, for tests, benchmarks and trying things out.

Each node is one ``ray start --block`` process in its own process group with its own ports,
temp folder and custom resources (``node_a``...), so a test can pin deployments to a node and
kill exactly one node. Nodes are stopped by their process group id, never by ``ray stop``
(which stops every Ray process of the machine, other people's included).
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


@dataclass
class Node:
    name: str  # also its custom resource: {name: 100}
    process: subprocess.Popen[bytes]
    log: Path
    started_s: float = 0.0

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def session_pids(self) -> list[int]:
        """Every process of this node: its session (Ray moves some workers to process
        groups of their own, never out of the session ``start_new_session`` made)."""
        out = subprocess.run(
            ["ps", "-o", "pid=", "--sid", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal this node's process group and every other process of its session (listed
        first, so the whole node goes at once)."""
        pids = self.session_pids()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    def stop(self, grace: float = 10.0) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        self.kill(signal.SIGKILL)  # what the node started lives on in its group otherwise
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)


@dataclass
class LocalCluster:
    """A head plus worker nodes; ``address`` is what ``ray.init``/``--ray-address`` take."""

    root: Path
    gcs_port: int
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
        return LocalCluster(folder, free_port())

    def _common_args(self, name: str) -> list[str]:
        temp = self.root / name
        temp.mkdir(parents=True, exist_ok=True)
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

    def _spawn(self, name: str, args: list[str]) -> Node:
        log = self.root / f"{name}.log"
        env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", **self.auth_env)
        with log.open("ab") as out:
            process = subprocess.Popen(
                [ray_executable(), "start", *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopped alone, by its pid
                env=env,
            )
        node = Node(name, process, log)
        self.nodes.append(node)
        return node

    def start_head(self, name: str = "head") -> Node:
        args = [
            "--head",
            f"--port={self.gcs_port}",
            f"--ray-client-server-port={free_port()}",
            "--include-dashboard=false",
            *self._common_args(name),
        ]
        return self._spawn(name, args)

    def add_node(self, name: str) -> Node:
        return self._spawn(name, [f"--address={self.address}", *self._common_args(name)])

    def wait_for_nodes(self, count: int, timeout: float = START_SECONDS) -> None:
        """Block until ``count`` nodes are alive in the cluster (asked through ``ray``)."""
        import ray

        deadline = time.monotonic() + timeout
        while True:
            for node in self.nodes:
                if not node.alive():
                    raise RuntimeError(f"Ray node {node.name} exited; see {node.log}")
            with contextlib.suppress(Exception):
                if ray.is_initialized():
                    alive = [n for n in ray.nodes() if n.get("Alive")]
                    if len(alive) >= count:
                        return
                else:
                    self.join_as_driver()
                    ray.init(address=self.address, namespace="wranglerpy", log_to_driver=False)
                    continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} Ray nodes did not come up; see {self.root}")
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
