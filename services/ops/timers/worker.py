"""The timer worker: claims one due timer at a time with FOR UPDATE SKIP LOCKED and runs its
effect inside the claiming transaction (the effect's use case joins it through `joined`),
marking the timer fired in that same transaction. A crash or a cancelled worker rolls both back
and the timer fires later, once; any number of replicas may run. Every effect re-checks the
action, so a timer that is no longer needed (decided, acknowledged, escalated by hand) does
nothing."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.backoff import Backoff
from runtime.db import Database
from runtime.errors import DomainError
from runtime.grpc_server import Worker
from services.ops import escalation, lifecycle
from services.ops.timer_tables import timers
from services.ops.timers import joined

log = logging.getLogger(__name__)
RETRY = Backoff(first_s=2.0, cap_s=300.0, floor=0.5)  # a failing timer's next try

Clock = Callable[[], datetime]
# An effect runs inside the claiming transaction: (that transaction as a Database, timer, now).
Effect = Callable[[Database, Row[Any], datetime], Awaitable[object]]


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
    claim = (
        select(timers)
        .where(timers.c.state == "pending", timers.c.due_at <= now)
        .order_by(timers.c.due_at, timers.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    async with db.transaction() as session:
        timer = (await session.execute(claim)).first()
        if timer is None:
            return False
        await _fire(session, timer, now, effects[timer.kind], by)
    return True


async def _fire(
    session: AsyncSession, timer: Row[Any], now: datetime, effect: Effect, by: str
) -> None:
    done = {"state": "fired", "fired_at": now, "claimed_by": by, "attempts": timer.attempts + 1}
    try:
        async with session.begin_nested():
            await effect(joined(session), timer, now)
    except DomainError as refusal:
        # The action moved on (decided, cancelled, gone): nothing left to do, ever.
        done["last_error"] = f"{type(refusal).__name__}: {refusal}"
    except Exception as exc:
        log.exception("timer %s (%s of action %s) failed", timer.id, timer.kind, timer.action_id)
        delay = RETRY.wait(timer.attempts)
        done = {
            "attempts": timer.attempts + 1,
            "last_error": f"{type(exc).__name__}: {exc}"[:2000],
            "due_at": now + timedelta(seconds=delay),
        }
    await session.execute(update(timers).where(timers.c.id == timer.id).values(**done))


def timer_worker(
    db: Database,
    clock: Clock,
    notifier: Callable[[], object],
    *,
    poll_s: float = 0.5,
    batch: int = 50,
) -> Worker:
    """A background worker firing due timers; `notifier` runs after a batch committed (it wakes
    the outbox relay and the notification delivery)."""
    effects, me = default_effects(), f"{socket.gethostname()}:{id(db):x}"

    async def run() -> None:
        while True:
            try:
                fired = await fire_due(db, clock(), effects, batch=batch, by=me)
            except Exception:
                log.exception("timer pass failed")
                fired = 0
            if fired:
                notifier()
            else:
                await asyncio.sleep(poll_s)

    return run


async def _expire(db: Database, timer: Row[Any], now: datetime) -> object:
    return await lifecycle.expire(db, action_id=timer.action_id, now=now)


def default_effects() -> dict[str, Effect]:
    return {
        "expire": _expire,
        "validity_end": _expire,
        "escalate": escalation.fire,
        "remind": escalation.remind,
    }
