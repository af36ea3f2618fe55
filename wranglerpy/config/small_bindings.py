"""The smaller binding sections: ``ratelimits`` (and its older ``unsafe.bindings`` form),
``version_metadata``, ``hyperdrive`` and ``send_email``, plus the names of bindings of kinds
wranglerpy still does not emulate (so ``env.X`` can say so instead of not existing).

Keys and checks follow wrangler's (cloudflare/workers-sdk ``packages/workers-utils/src/config/
environment.ts`` and ``validation.ts``: ``validateRateLimitBinding``,
``validateHyperdriveBinding``); Hyperdrive's local connection string comes from
``CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_<BINDING>`` (or the deprecated
``WRANGLER_HYPERDRIVE_...``) before ``localConnectionString``, as in wrangler's ``dev.ts``
(``applyHyperdriveEnvVars``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wranglerpy.config.fields import Reader, join

RATELIMIT_PERIODS = (10, 60)
HYPERDRIVE_ENV_PREFIX = "CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_"
HYPERDRIVE_OLD_ENV_PREFIX = "WRANGLER_HYPERDRIVE_LOCAL_CONNECTION_STRING_"


@dataclass(frozen=True)
class RateLimit:
    """``[[ratelimits]]``: ``limit`` calls per key per ``period`` seconds, counted in the
    namespace ``namespace_id`` (shared by every binding and process naming it)."""

    binding: str
    namespace_id: str
    limit: int
    period: int


@dataclass(frozen=True)
class VersionMetadata:
    """``[version_metadata]``: ``env.<binding>`` gives ``id``, ``tag`` and ``timestamp``."""

    binding: str


@dataclass(frozen=True)
class Hyperdrive:
    """``[[hyperdrive]]``. ``connection_string`` is the local database it points at (None when
    neither the env var nor ``localConnectionString`` gives one)."""

    binding: str
    id: str
    connection_string: str | None
    source: str = ""  # where connection_string came from, for messages


@dataclass(frozen=True)
class SendEmail:
    """``[[send_email]]``: outgoing mail is recorded locally, not sent."""

    binding: str
    destination_address: str | None = None
    allowed_destination_addresses: tuple[str, ...] | None = None
    allowed_sender_addresses: tuple[str, ...] | None = None


def _ratelimit(r: Reader, item: dict[str, Any], where: str, extra: tuple[str, ...]) -> RateLimit:
    r.unknown_keys(item, ("name", "namespace_id", "simple", *extra), where)
    binding = r.identifier(item, "name", where)
    namespace = item.get("namespace_id")
    if isinstance(namespace, int) and not isinstance(namespace, bool):
        namespace = str(namespace)  # the older unsafe form often wrote a number
    if not isinstance(namespace, str) or not namespace:
        raise r.expect(join(where, "namespace_id"), "a string", namespace)
    simple_where = join(where, "simple")
    simple = item.get("simple")
    if not isinstance(simple, dict):
        raise r.expect(simple_where, 'a "simple" table with "limit" and "period"', simple)
    r.unknown_keys(simple, ("limit", "period"), simple_where)
    limit = r.integer(simple, "limit", simple_where)
    if limit is None or limit < 0:
        raise r.error(join(simple_where, "limit"), "must be a non-negative integer")
    period = r.integer(simple, "period", simple_where)
    if period not in RATELIMIT_PERIODS:
        raise r.error(join(simple_where, "period"), f"must be either 10 or 60 but got {period}")
    return RateLimit(binding, namespace, limit, period)


def parse_ratelimits(r: Reader, t: dict[str, Any], path: str) -> tuple[RateLimit, ...]:
    out = [_ratelimit(r, item, where, ()) for where, item in r.table_list(t, "ratelimits", path)]
    unsafe = r.table(t, "unsafe", path)
    if unsafe is not None:
        for where, item in r.table_list(unsafe, "bindings", join(path, "unsafe")):
            if item.get("type") == "ratelimit":
                out.append(_ratelimit(r, item, where, ("type",)))
    return tuple(out)


def parse_version_metadata(r: Reader, t: dict[str, Any], path: str) -> VersionMetadata | None:
    table = r.table(t, "version_metadata", path)
    if table is None:
        return None
    where = join(path, "version_metadata")
    r.unknown_keys(table, ("binding",), where)
    return VersionMetadata(r.identifier(table, "binding", where))


def parse_hyperdrive(
    r: Reader, t: dict[str, Any], path: str, environ: Mapping[str, str] | None = None
) -> tuple[Hyperdrive, ...]:
    env = os.environ if environ is None else environ
    out = []
    for where, item in r.table_list(t, "hyperdrive", path):
        r.unknown_keys(item, ("binding", "id", "localConnectionString"), where)
        binding = r.identifier(item, "binding", where)
        hd_id = r.required_string(item, "id", where)
        local = r.string(item, "localConnectionString", where)
        source = f'"{join(where, "localConnectionString")}"'
        for prefix in (HYPERDRIVE_ENV_PREFIX, HYPERDRIVE_OLD_ENV_PREFIX):
            from_env = env.get(prefix + binding)
            if from_env:
                if prefix == HYPERDRIVE_OLD_ENV_PREFIX:
                    r.warn(
                        f'Using "{HYPERDRIVE_OLD_ENV_PREFIX}<BINDING_NAME>" environment variable. '
                        f'This is deprecated. Please use "{HYPERDRIVE_ENV_PREFIX}<BINDING_NAME>" '
                        "instead."
                    )
                local, source = from_env, f"${prefix}{binding}"
                break
        out.append(Hyperdrive(binding, hd_id, local, source if local else ""))
    return tuple(out)


def parse_send_email(r: Reader, t: dict[str, Any], path: str) -> tuple[SendEmail, ...]:
    out = []
    known = (
        "name",
        "destination_address",
        "allowed_destination_addresses",
        "allowed_sender_addresses",
        "remote",
        "experimental_remote",
    )
    for where, item in r.table_list(t, "send_email", path):
        r.unknown_keys(item, known, where)
        destination = r.string(item, "destination_address", where)
        allowed = (
            r.string_list(item, "allowed_destination_addresses", where)
            if "allowed_destination_addresses" in item
            else None
        )
        if destination is not None and allowed is not None:
            raise r.error(
                where,
                'set either "destination_address" or "allowed_destination_addresses", not both',
            )
        senders = (
            r.string_list(item, "allowed_sender_addresses", where)
            if "allowed_sender_addresses" in item
            else None
        )
        out.append(SendEmail(r.identifier(item, "name", where), destination, allowed, senders))
    return tuple(out)


def _names_in(value: Any) -> list[str]:
    """Binding names inside one not-emulated section, whatever its shape."""
    names: list[str] = []
    if isinstance(value, list):
        for item in value:
            names += _names_in(item)
    elif isinstance(value, dict):
        for key in ("binding", "name"):
            if isinstance(value.get(key), str) and value[key].isidentifier():
                names.append(value[key])
                return names
        for key in ("bindings", "producers"):
            if key in value:
                names += _names_in(value[key])
    return names


def unsupported_bindings(t: dict[str, Any], kinds: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``(binding name, config key)`` for bindings of not-emulated kinds in this table (and
    ``unsafe.bindings`` that are not rate limiters)."""
    out: list[tuple[str, str]] = []
    for kind in kinds:
        if kind in t and kind not in ("unsafe", "site"):
            out += [(name, kind) for name in _names_in(t[kind])]
    unsafe = t.get("unsafe")
    if isinstance(unsafe, dict) and isinstance(unsafe.get("bindings"), list):
        for item in unsafe["bindings"]:
            if isinstance(item, dict) and item.get("type") != "ratelimit":
                out += [(name, "unsafe.bindings") for name in _names_in(item)]
    return tuple(out)
