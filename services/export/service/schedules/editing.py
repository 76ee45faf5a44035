"""Schedule use cases for the servicer: put (create or replace), list, delete; each change is
audited in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, NotFound
from services.export.domain.requests import ExportRequest, parse_id
from services.export.domain.requests import validate as validate_request
from services.export.domain.schedules import Schedule, ScheduleSpec, next_after, validate
from services.export.repository import outbox, schedules


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
        if not await schedules.write(session, values, new=old is None):
            raise Conflict(f"a schedule named {spec.name!r} exists already")
        saved = await schedules.get(session, values["id"])
        action = "export.schedule.created" if old is None else "export.schedule.updated"
        await _event(session, actor, action, saved)
    return saved


async def list_schedules(db: Database) -> list[Schedule]:
    async with db.transaction() as session:
        return await schedules.all_by_name(session)


async def delete_schedule(db: Database, schedule_id: str, *, actor: Principal) -> None:
    """Deletes the schedule; the exports it ran are kept. NotFound for an unknown id."""
    async with db.transaction() as session:
        found = await _locked(session, parse_id(schedule_id))
        await schedules.remove(session, found.id)
        await _event(session, actor, "export.schedule.deleted", found)


def _check(spec: ScheduleSpec, destinations: Collection[str]) -> None:
    validate(spec)
    request = ExportRequest(kind=spec.kind, format=spec.format, parameters=spec.parameters)
    validate_request(request)
    if spec.destination and spec.destination not in destinations:
        raise InvalidArgument(f"unknown destination {spec.destination!r}")


async def _locked(session: AsyncSession, schedule_id: str) -> Schedule:
    found = await schedules.locked(session, schedule_id)
    if found is None:
        raise NotFound(f"no schedule {schedule_id}")
    return found


def _values(
    spec: ScheduleSpec, old: Schedule | None, actor: Principal, now: datetime
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": old.id if old is not None else str(uuid.uuid4()),
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


async def _event(session: AsyncSession, actor: Principal, action: str, schedule: Schedule) -> None:
    payload: dict[str, Any] = {
        name: getattr(schedule, name)
        for name in ("name", "cron", "time_zone", "kind", "format", "destination", "enabled")
    }
    payload["parameters"] = dict(schedule.parameters)
    await outbox.record_schedule(session, actor, action, schedule.id, payload)
