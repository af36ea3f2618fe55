"""Event ingestion: validate a batch, store it in D1 (``events`` and ``event_summaries``) and
write one Analytics Engine data point per event."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from inference_api.errors import ApiError
from inference_api.keys import Principal
from inference_common.clock import new_id, utc_date
from inference_common.tiers import exceeds, limits_for
from inference_common.usage import events_this_month

MAX_BODY_BYTES = 1024 * 1024
MAX_EVENTS_PER_REQUEST = 1000
MAX_NAME_LENGTH = 256
MAX_PROPERTIES_BYTES = 16 * 1024
OPTIONAL_STRINGS = {"sessionId": 256, "userId": 256, "component": 256}


@dataclass(frozen=True)
class Event:
    event: str
    timestamp: int
    session_id: str | None
    user_id: str | None
    component: str | None
    properties: dict[str, Any] | None


def validate_event(raw: Any) -> Event:
    """One event, or ValueError saying which field is wrong and why."""
    if not isinstance(raw, dict):
        raise ValueError(f"an event must be a JSON object, got {type(raw).__name__}")
    name = raw.get("event")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("'event' is required and must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"'event' is longer than {MAX_NAME_LENGTH} characters")
    timestamp = raw.get("timestamp")
    if (
        isinstance(timestamp, bool)
        or not isinstance(timestamp, (int, float))
        or not math.isfinite(timestamp)
        or timestamp <= 0
    ):
        raise ValueError("'timestamp' is required and must be a positive number (epoch ms)")
    strings: dict[str, str | None] = {}
    for field, limit in OPTIONAL_STRINGS.items():
        value = raw.get(field)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"'{field}' must be a string")
        if value is not None and len(value) > limit:
            raise ValueError(f"'{field}' is longer than {limit} characters")
        strings[field] = value
    if raw.get("data") is not None and raw.get("properties") is not None:
        raise ValueError("send 'data' or 'properties', not both")
    properties = raw.get("properties", raw.get("data"))
    if properties is not None:
        if not isinstance(properties, dict):
            raise ValueError("'data'/'properties' must be a JSON object")
        if len(json.dumps(properties)) > MAX_PROPERTIES_BYTES:
            raise ValueError(f"'data'/'properties' is larger than {MAX_PROPERTIES_BYTES} bytes")
    return Event(
        event=name,
        timestamp=int(timestamp),
        session_id=strings["sessionId"],
        user_id=strings["userId"],
        component=strings["component"],
        properties=properties,
    )


def parse_batch(raw_body: bytes) -> tuple[list[Event], list[dict[str, Any]]]:
    """``(valid events, per-event errors)`` from a body holding one event or an array."""
    if len(raw_body) > MAX_BODY_BYTES:
        raise ApiError(
            413, f"Request body is larger than {MAX_BODY_BYTES} bytes", limit=MAX_BODY_BYTES
        )
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            400, "Request body must be JSON: an event object or an array of events"
        ) from None
    items = body if isinstance(body, list) else [body]
    if len(items) > MAX_EVENTS_PER_REQUEST:
        raise ApiError(
            413,
            f"Too many events in one request: {len(items)} (at most {MAX_EVENTS_PER_REQUEST})",
            limit=MAX_EVENTS_PER_REQUEST,
        )
    valid: list[Event] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            valid.append(validate_event(item))
        except ValueError as exc:
            errors.append({"index": index, "error": str(exc)})
    return valid, errors


def _owner_and_properties(event: Event, principal: Principal | None) -> tuple[str | None, Any]:
    """Events belong to the key that sends them: to its owner, or to nobody when no key was
    sent. A userId the client names is only a label: it is kept in the properties, never used
    as the owner (else anyone could charge events to, and lock out, another account)."""
    owner = principal.user_id if principal is not None else None
    if event.user_id is not None and event.user_id != owner:
        return owner, {**(event.properties or {}), "userId": event.user_id}
    return owner, event.properties


async def check_quota(env: Any, principal: Principal | None, adding: int, now: int) -> None:
    if principal is None or adding == 0:
        return
    limit = limits_for(principal.tier, env).events_per_month
    if limit is None:
        return
    used = await events_this_month(env.DB, principal.user_id, now)
    if exceeds(limit, used, adding):
        raise ApiError(
            429,
            f"Monthly event limit of the {principal.tier} tier reached: {used} of {limit} "
            f"used, this request has {adding}",
            tier=principal.tier,
            limit=limit,
            used=used,
        )


async def store(env: Any, events: list[Event], principal: Principal | None, now: int) -> None:
    """Insert the events and bump the daily summaries in one D1 batch, then write AE points."""
    db = env.DB
    statements = []
    summaries: Counter[tuple[str, str, str, str]] = Counter()
    insert = db.prepare(
        "INSERT INTO events (id, user_id, session_id, event, component, properties, timestamp, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )
    rows = []
    for event in events:
        owner, properties = _owner_and_properties(event, principal)
        rows.append((event, owner))
        statements.append(
            insert.bind(
                new_id(),
                owner,
                event.session_id,
                event.event,
                event.component,
                json.dumps(properties) if properties is not None else None,
                event.timestamp,
                now,
            )
        )
        summaries[(owner or "", utc_date(event.timestamp), event.event, event.component or "")] += 1
    upsert = db.prepare(
        "INSERT INTO event_summaries (user_id, date, event, component, count, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, date, event, component) "
        "DO UPDATE SET count = count + excluded.count, updated_at = excluded.updated_at"
    )
    for (owner, date, name, component), count in summaries.items():
        statements.append(upsert.bind(owner, date, name, component, count, now))
    if statements:
        await db.batch(statements)
    for event, owner in rows:
        env.ANALYTICS.writeDataPoint(
            {
                "blobs": [event.event, event.component or "", event.session_id or "", owner or ""],
                "doubles": [float(event.timestamp), 1.0],
                "indexes": [owner or "anonymous"],
            }
        )
