"""The ``analytics`` query: metrics and a breakdown of one user's events in a time range."""

from __future__ import annotations

from typing import Any

METRICS = ("totalEvents", "uniqueSessions", "uniqueComponents", "eventTypes", "aiRequests")
GROUPINGS: dict[str, str] = {
    "event": "event",
    "component": "COALESCE(component, '')",
    "session": "COALESCE(session_id, '')",
    "day": "strftime('%Y-%m-%d', timestamp / 1000, 'unixepoch')",
    "hour": "strftime('%Y-%m-%dT%H:00', timestamp / 1000, 'unixepoch')",
}
BREAKDOWN_LIMIT = 100


class AnalyticsInputError(ValueError):
    """A metric, grouping or range the query cannot answer."""


def check_request(
    start_ms: int, end_ms: int, metrics: list[str] | None, group_by: str | None
) -> tuple[list[str], str]:
    if end_ms < start_ms:
        raise AnalyticsInputError("endDate is before startDate")
    chosen = list(metrics) if metrics else list(METRICS)
    unknown = [m for m in chosen if m not in METRICS]
    if unknown:
        raise AnalyticsInputError(
            f"unknown metric(s) {', '.join(unknown)} (known: {', '.join(METRICS)})"
        )
    grouping = group_by or "event"
    if grouping not in GROUPINGS:
        raise AnalyticsInputError(f"unknown groupBy {grouping!r} (known: {', '.join(GROUPINGS)})")
    return chosen, grouping


async def analytics(
    db: Any,
    user_id: str,
    start_ms: int,
    end_ms: int,
    metrics: list[str] | None = None,
    group_by: str | None = None,
) -> dict[str, Any]:
    """``{"metrics": {name: value}, "breakdown": [{"key", "count"}]}`` for events whose own
    ``timestamp`` lies in ``[start_ms, end_ms]``."""
    chosen, grouping = check_request(start_ms, end_ms, metrics, group_by)
    where = "FROM events WHERE user_id = ? AND timestamp >= ? AND timestamp <= ?"
    args = (user_id, start_ms, end_ms)
    row = await (
        db.prepare(
            "SELECT COUNT(*) AS total, COUNT(DISTINCT session_id) AS sessions, "
            f"COUNT(DISTINCT component) AS components, COUNT(DISTINCT event) AS kinds {where}"
        )
        .bind(*args)
        .first()
    )
    values: dict[str, Any] = {
        "totalEvents": row["total"],
        "uniqueSessions": row["sessions"],
        "uniqueComponents": row["components"],
        "eventTypes": row["kinds"],
    }
    if "aiRequests" in chosen:
        ai = await (
            db.prepare(
                "SELECT COUNT(*) AS n FROM ai_usage WHERE user_id = ? AND created_at >= ? "
                "AND created_at <= ?"
            )
            .bind(*args)
            .first()
        )
        values["aiRequests"] = ai["n"]
    key = GROUPINGS[grouping]
    order = "key" if grouping in ("day", "hour") else "count DESC, key"
    grouped = await (
        db.prepare(
            f"SELECT {key} AS key, COUNT(*) AS count {where} GROUP BY key ORDER BY {order} "
            f"LIMIT {BREAKDOWN_LIMIT}"
        )
        .bind(*args)
        .all()
    )
    return {
        "metrics": {name: values[name] for name in chosen},
        "breakdown": [{"key": r["key"], "count": r["count"]} for r in grouped["results"]],
        "groupBy": grouping,
    }
