"""Which ``Host`` headers ``dev`` answers: DNS rebinding protection, as Vite's allowedHosts.

A web page on another site can point its own name at 127.0.0.1 and then read what ``dev``
answers (and run ``/cdn-cgi/handler/scheduled``). A Host that is an IP address, ``localhost``
or a ``*.localhost`` name, the ``--ip`` address, or the host of one of the worker's ``routes``
is answered; any other gets 403 with a message saying how to allow it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from wranglerpy.config.schema import WorkerConfig


def bare_host(header: str) -> str:
    """``header`` without its port and brackets, lower case."""
    text = header.strip().lower()
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class HostCheck:
    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.exact: set[str] = set()
        self.suffixes: list[str] = []
        for item in extra:
            host = bare_host(item.split("/", 1)[0].split("://", 1)[-1])
            if host.startswith("*"):
                self.suffixes.append(host.lstrip("*"))
            elif host:
                self.exact.add(host)

    @classmethod
    def for_worker(cls, config: WorkerConfig, extra: Iterable[str] = ()) -> HostCheck:
        patterns = [route.pattern.split("://", 1)[-1].split("/", 1)[0] for route in config.routes]
        return cls([*patterns, *extra])

    def allows(self, header: str | None) -> bool:
        if header is None:
            return True  # HTTP/1.0 without Host: no name a rebinding page could have used
        host = bare_host(header)
        if host == "localhost" or host.endswith(".localhost") or _is_ip(host):
            return True
        return host in self.exact or any(host.endswith(s) for s in self.suffixes)

    @staticmethod
    def refusal(header: str) -> str:
        return (
            f"Blocked request: the Host {header!r} is not allowed (DNS rebinding protection). "
            "dev answers localhost names, IP addresses and the hosts of the worker's routes; "
            "add the host to `routes` to allow it."
        )
