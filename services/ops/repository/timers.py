"""Durable timers: rows in ops.timers that the timer worker (services.ops.workers.timers) fires
once the injected clock passes due_at (services.ops.domain.timers).

Use cases schedule and cancel timers inside their own transaction, so a timer exists exactly
when the change that needs it committed."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ops.domain.timers import KINDS, Timer
from services.ops.repository.writes import Target, Write, run
from services.ops.tables import timers

# A timer a worker is firing right now is skipped, not waited for: the worker holds it while it
# waits for the action row the caller holds, and every effect re-checks the action, so that
# timer then does nothing.
CANCEL = (
    # The ids as one array computed first (an InitPlan): `id IN (subquery)` let the planner,
    # told by fresh statistics that the table was empty, walk every timer by primary key.
    "UPDATE ops.timers SET state = 'cancelled' WHERE id = ANY(ARRAY(SELECT id FROM ops.timers"
    " WHERE action_id = %s AND state = 'pending' AND (%s::text[] IS NULL OR kind = ANY(%s::text[]))"
    " FOR UPDATE SKIP LOCKED))"
)
FIRED = (
    "UPDATE ops.timers SET state = 'fired', fired_at = %s, claimed_by = %s,"
    " attempts = attempts + 1, last_error = COALESCE(%s, last_error) WHERE id = %s"
)
RETRY = "UPDATE ops.timers SET attempts = attempts + 1, last_error = %s, due_at = %s WHERE id = %s"
SCHEDULE = "INSERT INTO ops.timers (action_id, kind, due_at, payload) VALUES (%s, %s, %s, %s)"


def scheduling(
    action_id: str, kind: str, due_at: datetime, payload: dict[str, Any] | None = None
) -> Write:
    if kind not in KINDS:
        raise ValueError(f"unknown timer kind {kind!r}; known: {sorted(KINDS)}")
    return SCHEDULE, (action_id, kind, due_at, Jsonb(payload or {}))


def cancelling(action_id: str, kinds: Collection[str] | None = None) -> Write:
    """Marks the action's pending timers of `kinds` (None: every kind) cancelled."""
    listed = list(kinds) if kinds is not None else None
    return CANCEL, (action_id, listed, listed)


async def schedule(
    target: Target,
    *,
    action_id: str,
    kind: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    await run(target, scheduling(action_id, kind, due_at, payload))


async def cancel(target: Target, action_id: str, kinds: Collection[str] | None = None) -> None:
    await run(target, cancelling(action_id, kinds))


async def claim_due(session: AsyncSession, now: datetime) -> Timer | None:
    """The next due timer, locked until the transaction ends; one a worker holds is skipped."""
    claim = (
        select(timers)
        .where(timers.c.state == "pending", timers.c.due_at <= now)
        .order_by(timers.c.due_at, timers.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    row = (await session.execute(claim)).first()
    if row is None:
        return None
    return Timer(row.id, row.action_id, row.kind, row.due_at, row.attempts, row.payload)


async def fired(
    target: Target, timer_id: int, *, at: datetime, by: str, error: str | None = None
) -> None:
    """A claimed timer is done: it ran, or its effect found nothing left to do (`error`)."""
    await run(target, (FIRED, (at, by, error, timer_id)))


async def retry(target: Target, timer_id: int, *, error: str, due_at: datetime) -> None:
    """A claimed timer's effect failed: it stays pending and is due again at `due_at`."""
    await run(target, (RETRY, (error, due_at, timer_id)))


async def last_escalation_plan(session: AsyncSession, action_id: str) -> dict[str, Any] | None:
    """The payload of the action's latest escalate or remind timer (the policy it follows)."""
    query = (
        select(timers.c.payload)
        .where(timers.c.action_id == action_id, timers.c.kind.in_(["escalate", "remind"]))
        .order_by(timers.c.id.desc())
        .limit(1)
    )
    found: dict[str, Any] | None = (await session.execute(query)).scalar()
    return found
