"""Firing due timers: claims one due timer at a time with FOR UPDATE SKIP LOCKED and runs its
effect inside the claiming transaction (the effect's use case joins it through
services.ops.service.joined), marking the timer fired in that same transaction. A crash or a
cancelled worker rolls both back and the timer fires later, once; any number of replicas may
run. Every effect re-checks the action, so a timer that is no longer needed (decided,
acknowledged, escalated by hand) does nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.backoff import Backoff
from runtime.db import Database
from runtime.errors import DomainError
from services.ops.domain.timers import Timer
from services.ops.repository import timers
from services.ops.service import escalation, lifecycle, reminders
from services.ops.service.joined import joined

log = logging.getLogger(__name__)
RETRY = Backoff(first_s=2.0, cap_s=300.0, floor=0.5)  # a failing timer's next try

# An effect runs inside the claiming transaction: (that transaction as a Database, timer, now).
Effect = Callable[[Database, Timer, datetime], Awaitable[object]]


async def fire_due(
    db: Database, now: datetime, effects: Mapping[str, Effect], *, batch: int = 50, by: str = ""
) -> int:
    """Fires up to `batch` timers due at `now`, one transaction each; returns how many."""
    fired = 0
    while fired < batch and await _fire_next(db, now, effects, by):
        fired += 1
    return fired


async def _fire_next(db: Database, now: datetime, effects: Mapping[str, Effect], by: str) -> bool:
    # One timer per transaction: a worker holding several claims would lock several actions,
    # and two workers could then wait for each other.
    async with db.transaction() as session:
        timer = await timers.claim_due(session, now)
        if timer is None:
            return False
        await _fire(session, timer, now, effects[timer.kind], by)
    return True


async def _fire(
    session: AsyncSession, timer: Timer, now: datetime, effect: Effect, by: str
) -> None:
    try:
        async with session.begin_nested():
            await effect(joined(session), timer, now)
    except DomainError as refusal:
        # The action moved on (decided, cancelled, gone): nothing left to do, ever.
        error = f"{type(refusal).__name__}: {refusal}"
        await timers.fired(session, timer.id, at=now, by=by, error=error)
    except Exception as exc:
        log.exception("timer %s (%s of action %s) failed", timer.id, timer.kind, timer.action_id)
        due = now + timedelta(seconds=RETRY.wait(timer.attempts))
        await timers.retry(
            session, timer.id, error=f"{type(exc).__name__}: {exc}"[:2000], due_at=due
        )
    else:
        await timers.fired(session, timer.id, at=now, by=by)


async def _expire(db: Database, timer: Timer, now: datetime) -> object:
    return await lifecycle.expire(db, action_id=timer.action_id, now=now)


def default_effects() -> dict[str, Effect]:
    return {
        "expire": _expire,
        "validity_end": _expire,
        "escalate": escalation.fire,
        "remind": reminders.remind,
    }
