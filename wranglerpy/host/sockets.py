"""The socket binder: listening sockets, bound once by the host, handed to worker processes.

Because the host holds them, a worker's port (and the unix socket of its frame calls) stays
open across reloads and crashes: connections wait in the backlog for the new process.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import tempfile
from pathlib import Path

from wranglerpy.errors import UsageError
from wranglerpy.private_paths import private_dir

BACKLOG = 2048
_serial = itertools.count(1)


def bind_tcp(ip: str, port: int, *, owner: str = "", hint: str = "") -> socket.socket:
    """A listening TCP socket; a busy port is a UsageError naming ``owner`` and ``hint``."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    dual = family == socket.AF_INET6  # dual-stack, as a plain IPv6 bind is on Linux
    try:
        sock = socket.create_server((ip, port), family=family, backlog=BACKLOG, dualstack_ipv6=dual)
    except OSError as exc:
        whose = f"{owner}: address" if owner else "Address"
        raise UsageError(
            f"{whose} {ip}:{port} is already in use or not available "
            f"({os.strerror(exc.errno or 0)})." + (f" {hint}" if hint else "")
        ) from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it
    sock.set_inheritable(True)
    return sock


def runtime_dir() -> Path:
    """This user's folder of worker sockets, 0700 and checked: in a shared /tmp another user
    could have made it first (and then connect to, or replace, every socket in it)."""
    return private_dir(Path(tempfile.gettempdir()) / f"wranglerpy-{os.getuid()}", strict=True)


def bind_unix(label: str) -> tuple[socket.socket, Path]:
    """A new unix socket for ``label`` (a worker, or one version of it): never reused, so an
    old version can drain on its own socket while callers already reach the new one."""
    safe = re.sub(r"[^\w-]", "_", label)[:60]
    path = runtime_dir() / f"{safe}-{os.getpid()}-{next(_serial)}.sock"
    path.unlink(missing_ok=True)
    sock = socket.create_server(str(path), family=socket.AF_UNIX, backlog=BACKLOG)
    sock.set_inheritable(True)
    return sock, path


def port_is_free(ip: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError:
            return False
    return True
