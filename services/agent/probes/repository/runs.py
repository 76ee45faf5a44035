"""SQL of probe runs: storing a run with the probe's incident link after it, keeping only the
latest runs per probe, and reading them back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.probes.domain.probes import Probe, RunRecord
from services.agent.probes.tables import probe_runs, probes


async def add_run(session: AsyncSession, run: RunRecord, open_incident_id: str, keep: int) -> None:
    """Stores a run, the probe's open incident after it, and drops runs beyond `keep`."""
    values = {k: v for k, v in vars(run).items() if k != "probe_name"}
    values["incident_id"] = run.incident_id or None
    await session.execute(insert(probe_runs).values(**values))
    await session.execute(
        update(probes)
        .where(probes.c.id == run.probe_id)
        .values(open_incident_id=open_incident_id or None, last_run_id=run.id)
    )
    r = probe_runs.c
    oldest_kept = (
        select(r.started_at)
        .where(r.probe_id == run.probe_id)
        .order_by(r.started_at.desc())
        .offset(keep - 1)
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        delete(probe_runs).where(r.probe_id == run.probe_id, r.started_at < oldest_kept)
    )


async def runs(session: AsyncSession, probe: Probe, limit: int) -> list[RunRecord]:
    r = probe_runs.c
    rows = await session.execute(
        select(probe_runs)
        .where(r.probe_id == probe.id)
        .order_by(r.started_at.desc(), r.id)
        .limit(limit)
    )
    return [run_of(row, probe.spec.name) for row in rows]


def run_of(row: Row[Any], name: str) -> RunRecord:
    return RunRecord(
        id=str(row.id),
        probe_id=str(row.probe_id),
        probe_name=name,
        version=row.version,
        started_at=row.started_at,
        status=row.status,
        value=row.value,
        error=row.error,
        duration_ms=row.duration_ms,
        incident_id=str(row.incident_id or ""),
        incident_step=row.incident_step,
    )
