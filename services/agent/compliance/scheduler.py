"""The durable schedule of compliance runs. Each schedule is a row with a due time; any replica
claims a due row with FOR UPDATE SKIP LOCKED and moves its due time on in the same short
transaction before running, so replicas never run one schedule twice and a restart loses
nothing but the run that was in flight."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from runtime.db import Database
from services.agent.compliance.checks import Limits, Sources
from services.agent.compliance.results import Run
from services.agent.compliance.service import SCHEDULER, Clock, run_checks
from services.agent.compliance.tables import compliance_schedules as schedules

log = logging.getLogger(__name__)
DEFAULT_NAME, DEFAULT_INTERVAL_S = "default", 900


@dataclass(frozen=True)
class Schedule:
    name: str = DEFAULT_NAME
    interval_s: int = DEFAULT_INTERVAL_S


async def ensure(db: Database, schedule: Schedule, now: datetime) -> None:
    """Creates the schedule row, first due now, unless it exists (an operator may have changed
    its interval or disabled it: that is kept)."""
    async with db.transaction() as session:
        await session.execute(
            insert(schedules)
            .values(
                name=schedule.name, interval_s=schedule.interval_s, enabled=True, next_run_at=now
            )
            .on_conflict_do_nothing(index_elements=["name"])
        )


async def claim(db: Database, now: datetime) -> str | None:
    """The name of one due schedule, its next run already moved on; None when none is due."""
    async with db.transaction() as session:
        row = (
            await session.execute(
                select(schedules.c.name, schedules.c.interval_s)
                .where(schedules.c.enabled, schedules.c.next_run_at <= now)
                .order_by(schedules.c.next_run_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).one_or_none()
        if row is None:
            return None
        await session.execute(
            update(schedules)
            .where(schedules.c.name == row.name)
            .values(next_run_at=now + timedelta(seconds=row.interval_s), last_run_at=now)
        )
        return str(row.name)


async def run_due(
    db: Database, sources: Callable[[], Sources], clock: Clock, limits: Limits
) -> Run | None:
    """Runs one due schedule, if any, with the agent's own identity."""
    name = await claim(db, clock())
    if name is None:
        return None
    requester = replace(SCHEDULER, trigger=f"schedule/{name}")
    run = await run_checks(db, sources(), requester=requester, clock=clock, limits=limits)
    async with db.transaction() as session:
        await session.execute(
            update(schedules).where(schedules.c.name == name).values(last_run_id=run.id)
        )
    return run


async def run_forever(
    db: Database,
    sources: Callable[[], Sources],
    clock: Clock,
    *,
    limits: Limits,
    schedule: Schedule,
    poll_s: float,
    wake: Callable[[], None] = lambda: None,
) -> None:
    """The worker: creates the default schedule once, then polls for due schedules."""
    await ensure(db, schedule, clock())
    while True:
        try:
            if await run_due(db, sources, clock, limits):
                wake()  # its audit events are in the outbox
        except Exception:  # a failed run must not stop the schedule
            log.exception("scheduled compliance run failed")
        await asyncio.sleep(poll_s)
