"""Counting a user's usage this month (events ingested, AI requests served)."""

from __future__ import annotations

from typing import Any

from inference_common.clock import month_start_ms, new_id


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


async def reserve_ai_request(db: Any, user_id: str, limit: int, now: int) -> str | None:
    """Count one AI request against ``limit`` before it runs; its reservation id, or None
    when the month's quota is used up.

    The check and the count are one INSERT ... SELECT, so two requests racing for the last
    slot cannot both get it (D1 runs one write at a time). Used = the larger of the month's
    reservations and its served requests (``ai_usage``, written by the streaming worker).
    """
    reservation = new_id()
    start = month_start_ms(now)
    result = await (
        db.prepare(
            "INSERT INTO ai_reservations (id, user_id, created_at) SELECT ?, ?, ? "
            "WHERE max((SELECT COUNT(*) FROM ai_reservations WHERE user_id = ? "
            "AND created_at >= ?), (SELECT COUNT(*) FROM ai_usage WHERE user_id = ? "
            "AND created_at >= ?)) < ?"
        )
        .bind(reservation, user_id, now, user_id, start, user_id, start, limit)
        .run()
    )
    return reservation if int(result["meta"]["changes"]) == 1 else None


async def release_ai_request(db: Any, reservation: str) -> None:
    """Give a reservation back (the request was refused before any generation)."""
    await db.prepare("DELETE FROM ai_reservations WHERE id = ?").bind(reservation).run()
