"""Which deployed worker answers a request: by host (``<name>.localhost``) and ``routes``.

Route patterns follow Cloudflare's rules: ``host/path``, where the host may start with ``*``
(any subdomain, or the bare domain too when written ``*example.com``) and the path may end
with ``*`` (a prefix). The most specific pattern wins: an exact host before a wildcard one,
a longer pattern before a shorter one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

LOCAL_SUFFIX = ".localhost"


@dataclass(frozen=True)
class RoutePattern:
    pattern: str
    worker: str
    host: str  # lower case, without the leading "*"
    host_wildcard: bool
    path: str
    path_wildcard: bool

    @staticmethod
    def parse(pattern: str, worker: str) -> RoutePattern:
        text = pattern.strip()
        for scheme in ("https://", "http://"):
            if text.lower().startswith(scheme):
                text = text[len(scheme) :]
        host, slash, path = text.partition("/")
        path = "/" + path if slash else "/*"
        host = host.lower().split(":")[0]
        wildcard_host = host.startswith("*")
        path_wildcard = path.endswith("*")
        return RoutePattern(
            pattern=pattern,
            worker=worker,
            host=host.lstrip("*"),
            host_wildcard=wildcard_host,
            path=path.rstrip("*") if path_wildcard else path,
            path_wildcard=path_wildcard,
        )

    def matches(self, host: str, path: str) -> bool:
        if self.host_wildcard:
            if not host.endswith(self.host):
                return False
            # "*.example.com" needs a subdomain; "*example.com" also takes example.com itself.
            if self.host.startswith(".") and host == self.host:
                return False
        elif host != self.host:
            return False
        if self.path_wildcard:
            return path.startswith(self.path)
        return path == self.path

    def rank(self) -> tuple[int, int, int]:
        return (0 if self.host_wildcard else 1, len(self.host), len(self.path))


class RouteTable:
    """Immutable lookup built from the deployed workers; rebuilt on every switch."""

    def __init__(self, hosts: dict[str, str], patterns: list[RoutePattern]) -> None:
        self.hosts = hosts  # "<name>.localhost" -> worker
        self.patterns = sorted(patterns, key=lambda p: p.rank(), reverse=True)

    def match(self, host_header: str, path: str) -> str | None:
        host = host_header.lower()
        if host.startswith("["):
            host = host[: host.find("]") + 1]
        else:
            host = host.split(":")[0]
        worker = self.hosts.get(host)
        if worker is not None:
            return worker
        for pattern in self.patterns:
            if pattern.matches(host, path):
                return pattern.worker
        return None

    def public_hosts(self) -> list[str]:
        return sorted(self.hosts) + [p.pattern for p in self.patterns]


def build_table(workers: dict[str, tuple[bool, tuple[str, ...]]]) -> RouteTable:
    """``workers``: name -> (workers_dev, route patterns)."""
    hosts: dict[str, str] = {}
    patterns: list[RoutePattern] = []
    for name, (workers_dev, routes) in sorted(workers.items()):
        if workers_dev:
            hosts[f"{name.lower()}{LOCAL_SUFFIX}"] = name
        patterns.extend(RoutePattern.parse(r, name) for r in routes)
    return RouteTable(hosts, patterns)


def not_found_message(host: str, internal: Iterable[str]) -> str:
    """The 404 text for ``host``: names an internal worker asked for by its dev host, and
    never lists the deployed hosts (a 404 must not map the deployment for a stranger)."""
    bare = host.split(":")[0].lower()
    for name in internal:
        if bare == f"{name.lower()}.localhost":
            return (
                f'Worker "{name}" is internal (workers_dev = false and no routes): '
                "it is reachable only through service bindings."
            )
    return f"No worker is deployed at {host or '(no Host header)'}."
