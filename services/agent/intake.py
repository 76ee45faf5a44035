"""Intake of normalised, validated reports inside the caller's transaction: a repeat of an open
incident (same fingerprint, last seen within the de-duplication window) is folded onto it; a new
incident joins the correlation group of the latest incident seen within the correlation window
on the same desk and subject, or on the same venue, else starts its own."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.outbox import person
from services.agent import intake_store
from services.agent.domain import snapshot
from services.agent.events import Event
from services.agent.incidents import Incident, NewIncident, fingerprint
from services.agent.intake_store import Recent


@dataclass(frozen=True)
class Windows:
    dedup: timedelta = timedelta(minutes=10)
    correlation: timedelta = timedelta(minutes=10)


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
    await intake_store.lock_fingerprints(session, prints)
    latest = await intake_store.open_by_fingerprint(session, prints, now - windows.dedup)
    existing = {incident.id for incident in latest.values()}
    places = {(r.desk, r.subject.upper()) for r in reports}
    venues = {r.venue for r in reports if r.venue}
    groups = _Groups(await intake_store.recent(session, places, venues, now - windows.correlation))
    taken: list[Incident] = []
    for report, print_ in zip(reports, prints, strict=True):
        incident = latest.get(print_)
        if incident is None:
            incident = _new(report, print_, caller, now, groups.of(report))
            groups.add(_recent(incident))
        else:
            incident = replace(incident, occurrences=incident.occurrences + 1, last_seen_at=now)
        latest[print_] = incident
        taken.append(replace(incident, deduplicated=incident.occurrences > 1))
    final = list(latest.values())
    await intake_store.add_incidents(session, [i for i in final if i.id not in existing])
    await intake_store.record_repeats(session, [i for i in final if i.id in existing])
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


class _Groups:
    """The latest recent incident per (desk, subject) place and per venue."""

    def __init__(self, seen: list[Recent]) -> None:
        self._places: dict[tuple[str, str], Recent] = {}
        self._venues: dict[str, Recent] = {}
        for recent in seen:
            self.add(recent)

    def add(self, recent: Recent) -> None:
        place = (recent.desk, recent.subject_key)
        if _newer(recent, self._places.get(place)):
            self._places[place] = recent
        if recent.venue and _newer(recent, self._venues.get(recent.venue)):
            self._venues[recent.venue] = recent

    def of(self, report: NewIncident) -> str | None:
        near = [self._places.get((report.desk, report.subject.upper()))]
        if report.venue:
            near.append(self._venues.get(report.venue))
        found = [r for r in near if r is not None]
        return max(found, key=lambda r: r.last_seen_at).correlation_id if found else None


def _newer(recent: Recent, known: Recent | None) -> bool:
    return known is None or known.last_seen_at <= recent.last_seen_at


def _recent(incident: Incident) -> Recent:
    key = incident.subject.upper()
    return Recent(incident.desk, key, incident.venue, incident.correlation_id, incident.created_at)


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
