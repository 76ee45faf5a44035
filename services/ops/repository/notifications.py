"""The notification queue in ops.notifications: rows written in the same transaction as the
escalation or reminder that caused them, claimed with FOR UPDATE SKIP LOCKED by any number of
delivering replicas, then marked delivered, put off, or removed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import Database
from services.ops.domain.notifications import Notification
from services.ops.repository.writes import Target, run
from services.ops.tables import notifications as table

DUE = "SELECT 1 FROM ops.notifications WHERE delivered_at IS NULL AND next_attempt_at <= %s LIMIT 1"
DELIVERED = (
    "UPDATE ops.notifications SET delivered_at = %s, attempts = attempts + 1, last_error = NULL"
    " WHERE id = %s"
)
LATER = (
    "UPDATE ops.notifications SET attempts = attempts + 1, next_attempt_at = %s, last_error = %s"
    " WHERE id = %s"
)
REMOVE = "DELETE FROM ops.notifications WHERE id = %s"


async def enqueue(
    target: Target, destinations: Iterable[str], body: dict[str, Any], now: datetime
) -> None:
    """One row per destination, inside the caller's transaction."""
    rows = [(d, Jsonb(body), now) for d in destinations]
    if rows:
        values = ", ".join(["(%s, %s, %s)"] * len(rows))
        sql = f"INSERT INTO ops.notifications (destination, body, next_attempt_at) VALUES {values}"
        await run(target, (sql, [v for r in rows for v in r]))


async def any_due(db: Database, now: datetime) -> bool:
    """One cheap read outside any transaction: most wakes find nothing to send."""
    async with db.read() as conn:
        return await (await conn.execute(DUE, (now,))).fetchone() is not None


async def claim(session: AsyncSession, now: datetime, limit: int) -> list[Notification]:
    """Due notifications, oldest first, locked until the transaction ends; held ones skipped."""
    query = (
        select(table)
        .where(table.c.delivered_at.is_(None), table.c.next_attempt_at <= now)
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.execute(query)).all()
    return [Notification(r.id, r.destination, r.body, r.attempts) for r in rows]


async def delivered(target: Target, note_id: int, now: datetime) -> None:
    await run(target, (DELIVERED, (now, note_id)))


async def later(target: Target, note_id: int, next_at: datetime, error: str) -> None:
    await run(target, (LATER, (next_at, error[:2000], note_id)))


async def remove(target: Target, note_id: int) -> None:
    await run(target, (REMOVE, (note_id,)))
