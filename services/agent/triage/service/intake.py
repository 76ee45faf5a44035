"""Intake of normalised, validated reports inside the caller's transaction: a repeat of an open
incident (same fingerprint, last seen within the de-duplication window) is folded onto it; a new
incident joins the correlation group of the latest incident seen within the correlation window
on the same desk and subject, or on the same venue, else starts its own."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.outbox import person
from services.agent.triage.domain.decisions import snapshot
from services.agent.triage.domain.incidents import Incident, NewIncident, fingerprint
from services.agent.triage.domain.intake import Groups, Windows, recent_of
from services.agent.triage.repository import incidents as incident_rows
from services.agent.triage.repository import intake as intake_rows
from services.agent.triage.repository.outbox import Event


async def take_in(
    session: AsyncSession,
    reports: Sequence[NewIncident],
    *,
    caller: Principal,
    now: datetime,
    windows: Windows,
) -> tuple[list[Incident], list[Event]]:
    """One incident per report (new, or the open one it was folded onto) and their events."""
    prints = [fingerprint(report) for report in reports]
    await intake_rows.lock_fingerprints(session, prints)
    latest = await intake_rows.open_by_fingerprint(session, prints, now - windows.dedup)
    existing = {incident.id for incident in latest.values()}
    places = {(r.desk, r.subject.upper()) for r in reports}
    venues = {r.venue for r in reports if r.venue}
    groups = Groups(await intake_rows.recent(session, places, venues, now - windows.correlation))
    taken: list[Incident] = []
    for report, print_ in zip(reports, prints, strict=True):
        incident = latest.get(print_)
        if incident is None:
            incident = _new(report, print_, caller, now, groups.of(report))
            groups.add(recent_of(incident))
        else:
            incident = replace(incident, occurrences=incident.occurrences + 1, last_seen_at=now)
        latest[print_] = incident
        taken.append(replace(incident, deduplicated=incident.occurrences > 1))
    final = list(latest.values())
    await incident_rows.add_incidents(session, [i for i in final if i.id not in existing])
    await incident_rows.record_repeats(session, [i for i in final if i.id in existing])
    return taken, [_event(incident, caller) for incident in taken]


def _new(
    report: NewIncident, print_: str, caller: Principal, now: datetime, group: str | None
) -> Incident:
    incident_id = str(uuid.uuid4())
    return Incident(
        **vars(report),
        id=incident_id,
        created_at=now,
        created_by=caller.subject,
        fingerprint=print_,
        occurrences=1,
        last_seen_at=now,
        correlation_id=group or incident_id,
    )


def _event(incident: Incident, caller: Principal) -> Event:
    if incident.deduplicated:
        payload = {"fingerprint": incident.fingerprint, "occurrences": incident.occurrences}
        return Event(person(caller), "agent.incident.repeated", f"incident/{incident.id}", payload)
    payload = {
        **snapshot(incident),
        "summary": incident.summary,
        "fingerprint": incident.fingerprint,
        "correlation_id": incident.correlation_id,
    }
    return Event(person(caller), "agent.incident.created", f"incident/{incident.id}", payload)
