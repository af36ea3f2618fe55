"""Flows: a user's named, stored UI flows (``steps`` is any JSON value)."""

from __future__ import annotations

import json
from typing import Any

from inference_common.clock import new_id, now_ms

MAX_NAME_LENGTH = 200


class FlowInputError(ValueError):
    """A flow field that cannot be stored."""


def _flow(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "userId": row["user_id"],
        "name": row["name"],
        "description": row["description"],
        "steps": json.loads(row["steps"]),
        "aiConfig": json.loads(row["ai_config"]) if row["ai_config"] is not None else None,
        "active": bool(row["active"]),
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


async def list_flows(db: Any, user_id: str) -> list[dict[str, Any]]:
    result = await (
        db.prepare("SELECT * FROM flows WHERE user_id = ? ORDER BY created_at DESC, id")
        .bind(user_id)
        .all()
    )
    return [_flow(r) for r in result["results"]]


async def get_flow(db: Any, user_id: str, flow_id: str) -> dict[str, Any] | None:
    """The flow, or None when it does not exist or belongs to someone else."""
    row = await (
        db.prepare("SELECT * FROM flows WHERE id = ? AND user_id = ?")
        .bind(flow_id, user_id)
        .first()
    )
    return _flow(row) if row else None


async def create_flow(
    db: Any,
    user_id: str,
    name: str,
    steps: Any,
    description: str | None = None,
    ai_config: Any = None,
    active: bool = True,
    now: int | None = None,
) -> dict[str, Any]:
    name = name.strip()
    if not name:
        raise FlowInputError("name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise FlowInputError(f"name is longer than {MAX_NAME_LENGTH} characters")
    if steps is None:
        raise FlowInputError("steps must be a JSON value, not null")
    now = now_ms() if now is None else now
    flow_id = new_id()
    await (
        db.prepare(
            "INSERT INTO flows (id, user_id, name, description, steps, ai_config, active, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        .bind(
            flow_id,
            user_id,
            name,
            description,
            json.dumps(steps),
            json.dumps(ai_config) if ai_config is not None else None,
            1 if active else 0,
            now,
            now,
        )
        .run()
    )
    created = await get_flow(db, user_id, flow_id)
    assert created is not None
    return created


async def delete_flow(db: Any, user_id: str, flow_id: str) -> bool:
    result = await (
        db.prepare("DELETE FROM flows WHERE id = ? AND user_id = ?").bind(flow_id, user_id).run()
    )
    return int(result["meta"]["changes"]) > 0
