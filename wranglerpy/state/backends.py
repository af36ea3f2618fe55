"""Which backend holds KV and R2 state, chosen by URL.

* ``--kv-backend redis://[:PASSWORD@]HOST:PORT/DB`` (``rediss://`` for TLS), or the
  ``WRANGLERPY_KV_BACKEND`` environment variable: KV namespaces live in Redis.
* ``--r2-backend s3://ACCESS_KEY:SECRET@HOST:PORT[?region=..&bucket_prefix=..]`` (``s3s://``
  for https), or ``WRANGLERPY_R2_BACKEND``: R2 buckets live on an S3-compatible server.
* Neither: today's local SQLite files and blob folders under the persist dir.

:class:`StateBackends` is what travels in a worker's spec; its ``kv_store``/``r2_store``
open the store of one namespace or bucket. Every message here shows URLs through
:func:`redact`, so a secret in a URL never reaches a log.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlsplit

from wranglerpy.errors import UsageError
from wranglerpy.logs.redact import redact_url_credentials

if TYPE_CHECKING:
    from wranglerpy.bindings.kv.store import KVStore
    from wranglerpy.bindings.r2.backend import R2Store

KV_ENV = "WRANGLERPY_KV_BACKEND"
R2_ENV = "WRANGLERPY_R2_BACKEND"
KV_FLAG = "--kv-backend"
R2_FLAG = "--r2-backend"
KV_SCHEMES = ("redis", "rediss")
R2_SCHEMES = ("s3", "s3s")
_R2_PARAMS = ("region", "bucket_prefix")


def redact(url: str) -> str:
    """``url`` with its password (the S3 secret, the Redis password) replaced by ``***``."""
    return redact_url_credentials(url)


@dataclass(frozen=True)
class RedisURL:
    """A parsed ``redis://`` backend URL."""

    url: str = field(repr=False)
    host: str
    port: int
    db: int
    password: str | None = field(default=None, repr=False)
    tls: bool = False


@dataclass(frozen=True)
class S3URL:
    """A parsed ``s3://`` backend URL: the endpoint, credentials and bucket naming."""

    url: str = field(repr=False)
    endpoint: str  # http(s)://HOST:PORT
    access_key: str
    secret_key: str = field(repr=False)
    region: str = "us-east-1"
    bucket_prefix: str = ""


def _bad(flag: str, url: str, why: str) -> UsageError:
    return UsageError(f"{flag} {redact(url)}: {why}")


def _host_port(flag: str, url: str, default_port: int | None) -> tuple[str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise _bad(flag, url, "the port is not a number from 0 to 65535") from None
    if not parts.hostname:
        raise _bad(flag, url, "no host (expected HOST:PORT)")
    if port is None:
        if default_port is None:
            raise _bad(flag, url, "no port (expected HOST:PORT)")
        port = default_port
    return parts.hostname, port


def parse_kv_url(url: str, flag: str = KV_FLAG) -> RedisURL:
    """Check a KV backend URL; a :class:`UsageError` naming ``flag`` when it is malformed."""
    parts = urlsplit(url)
    if parts.scheme not in KV_SCHEMES:
        raise _bad(flag, url, f"expected redis://HOST:PORT/DB (scheme {parts.scheme!r})")
    host, port = _host_port(flag, url, 6379)
    path = parts.path.strip("/") or "0"
    if not path.isdigit():
        raise _bad(flag, url, f"the database must be a number, got {path!r}")
    if parts.query:
        raise _bad(flag, url, "no query parameters are accepted")
    password = unquote(parts.password) if parts.password is not None else None
    return RedisURL(url, host, port, int(path), password, tls=parts.scheme == "rediss")


def parse_r2_url(url: str, flag: str = R2_FLAG) -> S3URL:
    """Check an R2 backend URL; a :class:`UsageError` naming ``flag`` when it is malformed."""
    parts = urlsplit(url)
    if parts.scheme not in R2_SCHEMES:
        raise _bad(
            flag, url, f"expected s3://ACCESS_KEY:SECRET@HOST:PORT (scheme {parts.scheme!r})"
        )
    host, port = _host_port(flag, url, None)
    if not parts.username or parts.password is None:
        raise _bad(flag, url, "credentials missing (expected s3://ACCESS_KEY:SECRET@HOST:PORT)")
    if parts.path.strip("/"):
        raise _bad(flag, url, "no path is accepted (use ?bucket_prefix=...)")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - set(_R2_PARAMS))
    if unknown:
        raise _bad(flag, url, f"unknown parameter(s) {unknown}; known: {list(_R2_PARAMS)}")
    prefix = query.get("bucket_prefix", [""])[-1]
    if prefix and not all(c.islower() or c.isdigit() or c in "-." for c in prefix):
        raise _bad(flag, url, "bucket_prefix may hold only a-z, 0-9, '-' and '.'")
    scheme = "https" if parts.scheme == "s3s" else "http"
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return S3URL(
        url,
        endpoint=f"{scheme}://{netloc}",
        access_key=unquote(parts.username),
        secret_key=unquote(parts.password),
        region=query.get("region", ["us-east-1"])[-1] or "us-east-1",
        bucket_prefix=prefix,
    )


@dataclass(frozen=True)
class StateBackends:
    """The KV and R2 backend URLs of a worker (None: the local stores)."""

    kv: str | None = None
    r2: str | None = None

    def __repr__(self) -> str:
        kv = redact(self.kv) if self.kv else None
        r2 = redact(self.r2) if self.r2 else None
        return f"StateBackends(kv={kv!r}, r2={r2!r})"

    def __post_init__(self) -> None:
        if self.kv is not None:
            parse_kv_url(self.kv)
        if self.r2 is not None:
            parse_r2_url(self.r2)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> StateBackends:
        """The backends named by ``WRANGLERPY_KV_BACKEND`` / ``WRANGLERPY_R2_BACKEND``."""
        env = os.environ if environ is None else environ
        kv = env.get(KV_ENV) or None
        r2 = env.get(R2_ENV) or None
        if kv is not None:
            parse_kv_url(kv, KV_ENV)
        if r2 is not None:
            parse_r2_url(r2, R2_ENV)
        return cls(kv=kv, r2=r2)

    @classmethod
    def resolve(cls, kv: str | None = None, r2: str | None = None) -> StateBackends:
        """Flags first, then the environment variables, then the local stores."""
        env = cls.from_env()
        if kv is not None:
            parse_kv_url(kv)
        if r2 is not None:
            parse_r2_url(r2)
        return cls(kv=kv or env.kv, r2=r2 or env.r2)

    def env(self) -> dict[str, str]:
        """The environment variables that select these backends in another process."""
        out = {}
        if self.kv:
            out[KV_ENV] = self.kv
        if self.r2:
            out[R2_ENV] = self.r2
        return out

    def export(self, environ: MutableMapping[str, str] | None = None) -> None:
        """Make these the backends of this process and the processes it starts (sets or
        clears the two environment variables)."""
        env = os.environ if environ is None else environ
        for name, value in ((KV_ENV, self.kv), (R2_ENV, self.r2)):
            if value:
                env[name] = value
            else:
                env.pop(name, None)

    def describe(self) -> str:
        """One line for a banner or a log, secrets redacted."""
        kv = redact(self.kv) if self.kv else "local SQLite"
        r2 = redact(self.r2) if self.r2 else "local files"
        return f"KV: {kv} · R2: {r2}"

    def kv_store(self, namespace_id: str, persist_dir: Path) -> KVStore:
        """The store of KV namespace ``namespace_id``."""
        if self.kv is None:
            from wranglerpy.bindings.kv import namespace_path
            from wranglerpy.bindings.kv.store import SQLiteKVStore

            return SQLiteKVStore(namespace_path(persist_dir, namespace_id))
        from wranglerpy.state.redis_kv import RedisKVStore

        return RedisKVStore(parse_kv_url(self.kv), namespace_id)

    def r2_store(self, bucket_name: str, persist_dir: Path) -> R2Store:
        """The store of R2 bucket ``bucket_name``."""
        if self.r2 is None:
            from wranglerpy.bindings.r2 import bucket_path
            from wranglerpy.bindings.r2.local import LocalR2Store

            return LocalR2Store(bucket_path(persist_dir, bucket_name))
        from wranglerpy.state.s3_r2 import S3R2Store

        return S3R2Store(parse_r2_url(self.r2), bucket_name)

    def check(self, timeout: float = 5.0) -> None:
        """Reach every configured server once; a one-line :class:`UsageError` naming the flag
        when one is unreachable or refuses the credentials."""
        for url, flag, module in ((self.kv, KV_FLAG, "redis"), (self.r2, R2_FLAG, "boto3")):
            if url is not None and importlib.util.find_spec(module) is None:
                raise _bad(flag, url, f"needs {module}: pip install 'wranglerpy[state]'")
        if self.kv is not None:
            from wranglerpy.state.redis_kv import ping

            problem = ping(parse_kv_url(self.kv), timeout)
            if problem:
                raise _bad(KV_FLAG, self.kv, problem)
        if self.r2 is not None:
            from wranglerpy.state.s3_r2 import ping as s3_ping

            problem = s3_ping(parse_r2_url(self.r2), timeout)
            if problem:
                raise _bad(R2_FLAG, self.r2, problem)


def activate(kv: str | None, r2: str | None, *, check: bool = True) -> StateBackends:
    """What ``dev``/``deploy``/``edge start`` do with their flags: resolve them (flags, then the
    environment), reach each server once (a one-line error naming the flag otherwise) and
    export them, so the worker processes started from here use them."""
    backends = StateBackends.resolve(kv=kv, r2=r2)
    if check:
        backends.check()
    backends.export()
    return backends


def quote_id(ident: str) -> str:
    """An id as one safe name segment (ids are usually hex or UUIDs and stay as they are)."""
    return quote(ident, safe="")
