"""Counting a user's usage this month (events ingested, AI requests served)."""

from __future__ import annotations

from typing import Any

from inference_common.clock import month_start_ms


async def events_this_month(db: Any, user_id: str, now: int) -> int:
    row = await (
        db.prepare("SELECT COUNT(*) AS n FROM events WHERE user_id = ? AND created_at >= ?")
        .bind(user_id, month_start_ms(now))
        .first()
    )
    return int(row["n"]) if row else 0


async def ai_requests_this_month(db: Any, user_id: str, now: int) -> int:
    row = await (
        db.prepare("SELECT COUNT(*) AS n FROM ai_usage WHERE user_id = ? AND created_at >= ?")
        .bind(user_id, month_start_ms(now))
        .first()
    )
    return int(row["n"]) if row else 0
