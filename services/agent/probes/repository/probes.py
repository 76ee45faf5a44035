"""SQL of probe definitions: current rows and their kept versions, and claiming due runs (runs
themselves are in repository.runs)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.errors import Conflict
from services.agent.probes.domain.documents import document, spec_of
from services.agent.probes.domain.probes import Probe, Version
from services.agent.probes.repository.runs import run_of
from services.agent.probes.tables import probe_runs, probe_versions, probes
from services.agent.triage import is_uuid


async def by_name(session: AsyncSession, name: str, *, lock: bool = False) -> Probe | None:
    query = select(probes).where(probes.c.name == name)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return None if row is None else await _with_last_run(session, row)


async def by_id(session: AsyncSession, probe_id: str, *, lock: bool = False) -> Probe | None:
    if not is_uuid(probe_id):
        return None
    query = select(probes).where(probes.c.id == probe_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return None if row is None else await _with_last_run(session, row)


async def list_all(session: AsyncSession, limit: int) -> list[Probe]:
    """Probes by name with their last runs: two queries, however many probes."""
    rows = (await session.execute(select(probes).order_by(probes.c.name).limit(limit))).all()
    run_ids = [row.last_run_id for row in rows if row.last_run_id is not None]
    last = await session.execute(select(probe_runs).where(probe_runs.c.id.in_(run_ids)))
    by_id = {str(run.id): run for run in last} if run_ids else {}
    return [_attach(_probe(row), by_id.get(str(row.last_run_id))) for row in rows]


async def save(session: AsyncSession, probe: Probe, change: str) -> None:
    """Writes the current row (new or changed) and its kept version row."""
    values = {
        "version": probe.version,
        "enabled": probe.enabled,
        "definition": document(probe.spec),
        "changed_by": probe.changed_by,
        "changed_at": probe.changed_at,
    }
    if probe.version == 1:
        row = {"id": probe.id, "name": probe.spec.name, "next_run_at": probe.next_run_at}
        try:
            await session.execute(insert(probes).values(**row, **values))
        except IntegrityError:  # created concurrently under the same name
            raise Conflict(f"probe {probe.spec.name!r} was created concurrently; retry") from None
    else:
        await session.execute(
            update(probes)
            .where(probes.c.id == probe.id)
            .values(next_run_at=probe.next_run_at, **values)
        )
    await session.execute(insert(probe_versions).values(probe_id=probe.id, change=change, **values))


async def versions(session: AsyncSession, probe_id: str) -> list[Version]:
    v = probe_versions.c
    rows = await session.execute(
        select(probe_versions).where(v.probe_id == probe_id).order_by(v.version.desc())
    )
    return [
        Version(
            str(r.probe_id),
            r.version,
            r.change,
            r.enabled,
            spec_of(r.definition),
            r.changed_by,
            r.changed_at,
        )
        for r in rows
    ]


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[Probe]:
    """Locks due enabled probes (others' locked rows are skipped) and moves each one's next run
    one interval past now: after downtime a probe runs once, not once per missed interval."""
    rows = (
        await session.execute(
            select(probes)
            .where(probes.c.enabled, probes.c.next_run_at <= now)
            .order_by(probes.c.next_run_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    claimed = [_probe(row) for row in rows]
    for probe in claimed:
        await session.execute(
            update(probes)
            .where(probes.c.id == probe.id)
            .values(next_run_at=now + timedelta(seconds=probe.spec.interval_s))
        )
    return claimed


async def _with_last_run(session: AsyncSession, row: Row[Any]) -> Probe:
    found = None
    if row.last_run_id is not None:
        query = select(probe_runs).where(probe_runs.c.id == row.last_run_id)
        found = (await session.execute(query)).first()
    return _attach(_probe(row), found)


def _attach(probe: Probe, last_run: Row[Any] | None) -> Probe:
    return probe if last_run is None else replace(probe, last_run=run_of(last_run, probe.spec.name))


def _probe(row: Row[Any]) -> Probe:
    return Probe(
        id=str(row.id),
        version=row.version,
        enabled=row.enabled,
        spec=spec_of(row.definition),
        changed_by=row.changed_by,
        changed_at=row.changed_at,
        next_run_at=row.next_run_at,
        open_incident_id=str(row.open_incident_id or ""),
    )
