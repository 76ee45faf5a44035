"""A failing spell is one incident: the first failing run opens it through the agent's intake
(normalised, fingerprinted, correlated and audited like any desk's report), later failing runs
fold onto it through the explicit link on the probe row (not the intake's time window, which a
slow interval would outlast), and the first passing run resolves it, so the next failure opens a
new one. All inside the caller's transaction, with the run that caused each step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.outbox import person
from services.agent.events import Event, record_events
from services.agent.intake import Windows
from services.agent.probes.events import caller
from services.agent.probes.model import Observation, Probe, ProbeSpec
from services.agent.probes.reports import report_of, value_text
from services.agent.service import accept, open_one
from services.agent.tables import incidents

OPENED, UPDATED, RECOVERED = "opened", "updated", "recovered"


@dataclass(frozen=True)
class Step:
    incident_id: str  # the incident the run concerned ("" when none)
    step: str  # OPENED, UPDATED, RECOVERED or ""
    open_incident_id: str  # the probe's open incident after the run


async def apply(
    session: AsyncSession,
    ran: Probe,
    open_incident_id: str,
    seen: Observation,
    now: datetime,
    windows: Windows,
) -> Step:
    """`ran` is the version that ran (its definition fills the incident), `open_incident_id`
    the link on the locked current row."""
    who = caller(ran.spec, ran.version)
    if seen.ok:
        if not open_incident_id:
            return Step("", "", "")
        await _resolve(session, open_incident_id, who, ran.version, seen, now)
        return Step(open_incident_id, RECOVERED, "")
    if open_incident_id and await _fold(session, open_incident_id, who, seen, now):
        return Step(open_incident_id, UPDATED, open_incident_id)
    incident_id = await _open(session, ran.spec, who, ran.version, seen, now, windows)
    return Step(incident_id, OPENED, incident_id)


async def _open(
    session: AsyncSession,
    spec: ProbeSpec,
    who: Principal,
    version: int,
    seen: Observation,
    now: datetime,
    windows: Windows,
) -> str:
    [report] = accept([report_of(spec, version, seen, now)], now)
    incident = await open_one(session, report, caller=who, now=now, windows=windows)
    return incident.id


async def _fold(
    session: AsyncSession, incident_id: str, who: Principal, seen: Observation, now: datetime
) -> bool:
    """False when the linked incident is no longer open (resolved by hand): a new one opens."""
    c = incidents.c
    row = (
        await session.execute(
            update(incidents)
            .where(c.id == incident_id, c.resolved_at.is_(None))
            .values(occurrences=c.occurrences + 1, last_seen_at=now)
            .returning(c.occurrences, c.fingerprint)
        )
    ).first()
    if row is None:
        return False
    payload = {"fingerprint": row.fingerprint, "occurrences": row.occurrences, **_seen(seen)}
    event = Event(person(who), "agent.incident.repeated", f"incident/{incident_id}", payload)
    await record_events(session, [event], now)
    return True


async def _resolve(
    session: AsyncSession,
    incident_id: str,
    who: Principal,
    version: int,
    seen: Observation,
    now: datetime,
) -> None:
    value = value_text(seen)
    resolution = f"recovered: {who.subject} passed at {now.isoformat()} (observed {value})"
    c = incidents.c
    await session.execute(
        update(incidents)
        .where(c.id == incident_id, c.resolved_at.is_(None))
        .values(resolved_at=now, resolution=resolution)
    )
    payload = {"resolution": resolution, "version": version, **_seen(seen)}
    event = Event(person(who), "agent.incident.resolved", f"incident/{incident_id}", payload)
    await record_events(session, [event], now)


def _seen(seen: Observation) -> dict[str, Any]:
    return {"status": seen.status, "value": seen.value, "error": seen.error}
