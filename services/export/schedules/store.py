"""Schedule use cases for the servicer: put (create or replace), list, delete; each change is
audited in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, NotFound
from runtime.outbox import person, record_event
from services.export.requests import ExportRequest, parse_id
from services.export.requests import validate as validate_request
from services.export.schedules.model import Schedule, ScheduleSpec, next_after, validate
from services.export.scheduling_tables import schedules
from services.export.tables import outbox


async def put_schedule(
    db: Database,
    spec: ScheduleSpec,
    *,
    actor: Principal,
    now: datetime,
    destinations: Collection[str],
) -> Schedule:
    """Creates (empty spec.id) or replaces a schedule. The next run is computed afresh when the
    schedule is new, its cron or time zone changed, or it is enabled again; otherwise a due run
    stays due. InvalidArgument for a bad field, Conflict for a name in use, NotFound for an
    unknown id."""
    _check(spec, destinations)
    async with db.transaction() as session:
        old = None if not spec.id else await _locked(session, parse_id(spec.id))
        values = _values(spec, old, actor, now)
        try:
            async with session.begin_nested():
                await _write(session, old, values)
        except IntegrityError:
            raise Conflict(f"a schedule named {spec.name!r} exists already") from None
        row = (await session.execute(select(schedules).where(schedules.c.id == values["id"]))).one()
        action = "export.schedule.created" if old is None else "export.schedule.updated"
        await _event(session, actor, action, row)
    return as_schedule(row)


async def list_schedules(db: Database) -> list[Schedule]:
    async with db.transaction() as session:
        rows = (await session.execute(select(schedules).order_by(schedules.c.name))).all()
    return [as_schedule(row) for row in rows]


async def delete_schedule(db: Database, schedule_id: str, *, actor: Principal) -> None:
    """Deletes the schedule; the exports it ran are kept. NotFound for an unknown id."""
    async with db.transaction() as session:
        row = await _locked(session, parse_id(schedule_id))
        await session.execute(delete(schedules).where(schedules.c.id == row.id))
        await _event(session, actor, "export.schedule.deleted", row)


def as_schedule(row: Row[Any]) -> Schedule:
    fields = Schedule.__dataclass_fields__
    return Schedule(**{name: getattr(row, name) for name in fields if name != "id"}, id=str(row.id))


def _check(spec: ScheduleSpec, destinations: Collection[str]) -> None:
    validate(spec)
    request = ExportRequest(kind=spec.kind, format=spec.format, parameters=spec.parameters)
    validate_request(request)
    if spec.destination and spec.destination not in destinations:
        raise InvalidArgument(f"unknown destination {spec.destination!r}")


async def _locked(session: AsyncSession, schedule_id: str) -> Row[Any]:
    query = select(schedules).where(schedules.c.id == schedule_id).with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(f"no schedule {schedule_id}")
    return row


def _values(
    spec: ScheduleSpec, old: Row[Any] | None, actor: Principal, now: datetime
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": str(old.id) if old is not None else str(uuid.uuid4()),
        "name": spec.name,
        "cron": spec.cron,
        "time_zone": spec.time_zone or "UTC",
        "kind": spec.kind,
        "format": spec.format or "jsonl",
        "parameters": dict(spec.parameters),
        "destination": spec.destination,
        "enabled": spec.enabled,
        "created_by": actor.subject,
        "updated_at": now,
    }
    timing = (values["cron"], values["time_zone"], True)
    if old is None or (old.cron, old.time_zone, old.enabled) != timing:
        values |= {"next_run_at": next_after(spec.cron, values["time_zone"], now), "retry_at": None}
    return values


async def _write(session: AsyncSession, old: Row[Any] | None, values: dict[str, Any]) -> None:
    if old is None:
        await session.execute(insert(schedules).values(**values, created_at=values["updated_at"]))
    else:
        await session.execute(update(schedules).where(schedules.c.id == old.id).values(**values))


async def _event(session: AsyncSession, actor: Principal, action: str, row: Row[Any]) -> None:
    payload = {
        name: getattr(row, name)
        for name in ("name", "cron", "time_zone", "kind", "format", "destination", "enabled")
    }
    payload["parameters"] = dict(row.parameters)
    await record_event(
        session,
        outbox,
        source="export",
        actor=person(actor),
        action=action,
        target=f"schedule/{row.id}",
        payload=payload,
    )
