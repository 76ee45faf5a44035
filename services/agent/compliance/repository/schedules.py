"""Rows of agent.compliance_schedules: created once, claimed when due (FOR UPDATE SKIP LOCKED,
the due time moved on in the same transaction), and pointed at the run they last started."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.compliance.domain.schedules import Schedule
from services.agent.compliance.tables import compliance_schedules as schedules


async def ensure(session: AsyncSession, schedule: Schedule, now: datetime) -> None:
    await session.execute(
        insert(schedules)
        .values(name=schedule.name, interval_s=schedule.interval_s, enabled=True, next_run_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )


async def claim(session: AsyncSession, now: datetime) -> str | None:
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


async def set_last_run(session: AsyncSession, name: str, run_id: str) -> None:
    await session.execute(
        update(schedules).where(schedules.c.name == name).values(last_run_id=run_id)
    )
