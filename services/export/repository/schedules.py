"""The export schedules (export.schedules) as domain objects: their one write path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.export.domain.schedules import Schedule
from services.export.tables import schedules


async def all_by_name(session: AsyncSession) -> list[Schedule]:
    rows = (await session.execute(select(schedules).order_by(schedules.c.name))).all()
    return [_schedule(row) for row in rows]


async def get(session: AsyncSession, schedule_id: str) -> Schedule:
    row = (await session.execute(select(schedules).where(schedules.c.id == schedule_id))).one()
    return _schedule(row)


async def locked(session: AsyncSession, schedule_id: str) -> Schedule | None:
    query = select(schedules).where(schedules.c.id == schedule_id).with_for_update()
    row = (await session.execute(query)).first()
    return None if row is None else _schedule(row)


async def write(session: AsyncSession, values: dict[str, Any], *, new: bool) -> bool:
    """Inserts (`new`) or updates the schedule values["id"]; False, and nothing written, when
    another schedule has the name already."""
    statement = (
        insert(schedules).values(**values, created_at=values["updated_at"])
        if new
        else update(schedules).where(schedules.c.id == values["id"]).values(**values)
    )
    try:
        async with session.begin_nested():
            await session.execute(statement)
    except IntegrityError:
        return False
    return True


async def remove(session: AsyncSession, schedule_id: str) -> None:
    await session.execute(delete(schedules).where(schedules.c.id == schedule_id))


async def claim_due(session: AsyncSession, now: datetime) -> Schedule | None:
    """Locks the schedule due first (its slot reached, any retry wait over), skipping rows
    another transaction holds."""
    due = or_(schedules.c.retry_at.is_(None), schedules.c.retry_at <= now)
    claim = (
        select(schedules)
        .where(schedules.c.enabled, schedules.c.next_run_at <= now, due)
        .order_by(schedules.c.next_run_at, schedules.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    row = (await session.execute(claim)).first()
    return None if row is None else _schedule(row)


async def set_run_state(session: AsyncSession, schedule_id: str, **values: Any) -> None:
    await session.execute(update(schedules).where(schedules.c.id == schedule_id).values(**values))


def _schedule(row: Row[Any]) -> Schedule:
    fields = Schedule.__dataclass_fields__
    return Schedule(**{name: getattr(row, name) for name in fields if name != "id"}, id=str(row.id))
