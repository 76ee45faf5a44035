"""Rows of agent.incidents: reading them (one, a page, the ones correlated with one) and the
one write path of the table: new incidents in bulk, repeats folded onto open ones."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.paging import After
from services.agent.triage.domain.incidents import Incident
from services.agent.triage.repository.bulk import copy_rows
from services.agent.triage.repository.keyset import newest_first
from services.agent.triage.tables import incidents

_NOT_COLUMNS = ("related", "deduplicated")


async def get_incident(session: AsyncSession, incident_id: str) -> Incident | None:
    if not is_uuid(incident_id):
        return None
    row = (await session.execute(select(incidents).where(incidents.c.id == incident_id))).first()
    return None if row is None else incident_of(row)


async def list_incidents(
    session: AsyncSession,
    limit: int,
    *,
    after: After | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Incident]:
    """Newest first, ties by id (runtime.paging); created in [since, until) when given."""
    c = incidents.c
    query = newest_first(select(incidents), c.created_at, c.id, after)
    if since is not None:
        query = query.where(c.created_at >= since)
    if until is not None:
        query = query.where(c.created_at < until)
    return [incident_of(row) for row in await session.execute(query.limit(limit))]


def incident_of(row: Row[Any]) -> Incident:
    values = row._asdict()
    del values["subject_key"]
    values["correlation_id"] = str(values["correlation_id"] or values["id"])
    values["id"] = str(values["id"])
    return Incident(**values)


async def add_incidents(session: AsyncSession, batch: Sequence[Incident]) -> None:
    if batch:
        await copy_rows(session, incidents, [incident_row(incident) for incident in batch])


async def record_repeats(session: AsyncSession, folded: Sequence[Incident]) -> None:
    """Stores the new occurrence count and last_seen_at of incidents that already existed."""
    if not folded:
        return
    statement = (
        update(incidents)
        .where(incidents.c.id == bindparam("target"))
        .values(occurrences=bindparam("count"), last_seen_at=bindparam("seen"))
    )
    rows = [{"target": i.id, "count": i.occurrences, "seen": i.last_seen_at} for i in folded]
    await session.execute(statement, rows)


async def related(session: AsyncSession, incident: Incident, limit: int = 100) -> tuple[str, ...]:
    c = incidents.c
    query = (
        select(c.id)
        .where(c.correlation_id == incident.correlation_id, c.id != incident.id)
        .order_by(c.created_at, c.id)
        .limit(limit)
    )
    return tuple(str(row.id) for row in await session.execute(query))


def incident_row(incident: Incident) -> dict[str, Any]:
    values = {k: v for k, v in vars(incident).items() if k not in _NOT_COLUMNS}
    values["subject_key"] = incident.subject.upper()
    values["metrics"] = dict(incident.metrics)
    return values


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def fold_onto(
    session: AsyncSession, incident_id: str, now: datetime
) -> tuple[int, str] | None:
    """One more occurrence of an open incident: (occurrences, fingerprint), or None when it is
    resolved or unknown."""
    c = incidents.c
    statement = (
        update(incidents)
        .where(c.id == incident_id, c.resolved_at.is_(None))
        .values(occurrences=c.occurrences + 1, last_seen_at=now)
        .returning(c.occurrences, c.fingerprint)
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row.occurrences, row.fingerprint)


async def resolve(session: AsyncSession, incident_id: str, resolution: str, now: datetime) -> None:
    c = incidents.c
    await session.execute(
        update(incidents)
        .where(c.id == incident_id, c.resolved_at.is_(None))
        .values(resolved_at=now, resolution=resolution)
    )
