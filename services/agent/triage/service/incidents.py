"""Intake use cases: one report taken in (CreateIncident, and the agent's own probes, triggers
and compliance checks), an incident read back. Each writes its rows and audit events in one
transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound
from runtime.outbox import person
from services.agent.triage.domain.incidents import Incident, NewIncident, normalise, validate
from services.agent.triage.domain.intake import Windows
from services.agent.triage.repository import incidents as incident_rows
from services.agent.triage.repository.outbox import Event, record_events
from services.agent.triage.service.agent import DEFAULT_WINDOWS, Agent, Clock, utc_now
from services.agent.triage.service.intake import take_in
from services.agent.triage.service.kinds import active_kinds


def accept(
    reports: Sequence[NewIncident], now: datetime, kinds: Collection[str]
) -> list[NewIncident]:
    """Normalised and validated reports of the given kinds (the active rule set's,
    active_kinds); InvalidArgument names the first bad one."""
    accepted = []
    for index, report in enumerate(reports):
        try:
            normalised = normalise(report)
            validate(normalised, now, kinds)
        except InvalidArgument as exc:
            raise InvalidArgument(
                f"incident {index}: {exc}" if len(reports) > 1 else str(exc)
            ) from None
        accepted.append(normalised)
    return accepted


async def create_incident(
    db: Database,
    *,
    new: NewIncident,
    caller: Principal,
    windows: Windows = DEFAULT_WINDOWS,
    clock: Clock = utc_now,
) -> Incident:
    """Intake of one report (also used by the agent's own compliance checks)."""
    now = clock()
    async with db.transaction() as session:
        # Before any write: the kinds are the active rule set's, read in this transaction.
        [report] = accept([new], now, await active_kinds(session))
        incident = await open_one(session, report, caller=caller, now=now, windows=windows)
        return replace(incident, related=await incident_rows.related(session, incident))


async def open_one(
    session: AsyncSession,
    report: NewIncident,
    *,
    caller: Principal,
    now: datetime,
    windows: Windows,
    requested_by: str = "",
) -> Incident:
    """One accepted report (accept) through intake in the caller's transaction, audited. An
    automation reporting for a person (a probe or trigger for its author) names them as
    `requested_by` in the events."""
    [incident], events = await take_in(session, [report], caller=caller, now=now, windows=windows)
    if requested_by:
        events = [replace(e, payload={**e.payload, "requested_by": requested_by}) for e in events]
    await record_events(session, events, now)
    return incident


async def get_incident(agent: Agent, *, incident_id: str) -> Incident:
    async with agent.db.transaction() as session:
        incident = await find_incident(session, incident_id)
        return replace(incident, related=await incident_rows.related(session, incident))


async def find_incident(session: AsyncSession, incident_id: str) -> Incident:
    """The incident, or NotFound."""
    incident = await incident_rows.get_incident(session, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id!r}")
    return incident


async def fold_linked(
    session: AsyncSession,
    incident_id: str,
    *,
    caller: Principal,
    now: datetime,
    details: dict[str, Any],
) -> bool:
    """A repeat folded onto the incident a link names (a probe's open incident), not the one the
    intake's window would find; False when that incident is no longer open."""
    folded = await incident_rows.fold_onto(session, incident_id, now)
    if folded is None:
        return False
    occurrences, print_ = folded
    payload = {"fingerprint": print_, "occurrences": occurrences, **details}
    event = Event(person(caller), "agent.incident.repeated", f"incident/{incident_id}", payload)
    await record_events(session, [event], now)
    return True


async def resolve(
    session: AsyncSession,
    incident_id: str,
    *,
    caller: Principal,
    resolution: str,
    now: datetime,
    details: dict[str, Any],
) -> None:
    """The condition ended: the incident is closed, and a later report opens a new one."""
    await incident_rows.resolve(session, incident_id, resolution, now)
    payload = {"resolution": resolution, **details}
    event = Event(person(caller), "agent.incident.resolved", f"incident/{incident_id}", payload)
    await record_events(session, [event], now)
