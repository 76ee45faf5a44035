"""Intake's rules: the de-duplication and correlation windows, and which recent incident a new
one is correlated with (the latest on the same desk and subject, or on the same venue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.agent.triage.domain.incidents import Incident, NewIncident


@dataclass(frozen=True)
class Windows:
    dedup: timedelta = timedelta(minutes=10)
    correlation: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Recent:
    """An incident seen recently, as far as correlation needs it."""

    desk: str
    subject_key: str
    venue: str
    correlation_id: str
    last_seen_at: datetime


class Groups:
    """The latest recent incident per (desk, subject) place and per venue."""

    def __init__(self, seen: list[Recent]) -> None:
        self._places: dict[tuple[str, str], Recent] = {}
        self._venues: dict[str, Recent] = {}
        for recent in seen:
            self.add(recent)

    def add(self, recent: Recent) -> None:
        place = (recent.desk, recent.subject_key)
        if newer(recent, self._places.get(place)):
            self._places[place] = recent
        if recent.venue and newer(recent, self._venues.get(recent.venue)):
            self._venues[recent.venue] = recent

    def of(self, report: NewIncident) -> str | None:
        near = [self._places.get((report.desk, report.subject.upper()))]
        if report.venue:
            near.append(self._venues.get(report.venue))
        found = [r for r in near if r is not None]
        return max(found, key=lambda r: r.last_seen_at).correlation_id if found else None


def newer(recent: Recent, known: Recent | None) -> bool:
    return known is None or known.last_seen_at <= recent.last_seen_at


def recent_of(incident: Incident) -> Recent:
    key = incident.subject.upper()
    return Recent(incident.desk, key, incident.venue, incident.correlation_id, incident.created_at)
