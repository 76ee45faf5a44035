"""SQL of intake: fingerprint locks, open incidents by fingerprint, recent incidents to correlate
with, and writing new and folded incidents in bulk."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.bulk import copy_rows
from services.agent.incidents import Incident
from services.agent.repository import incident_of
from services.agent.tables import incidents

_LOCK = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k")
_NOT_COLUMNS = ("related", "deduplicated")
# LATERAL ... LIMIT 1 reads one index entry per key (the newest), not every row in the window;
# a resolved incident is closed, so a later report opens a new one.
_OPEN = text(
    "SELECT i.* FROM unnest(CAST(:prints AS text[])) AS f(fp) CROSS JOIN LATERAL ("
    " SELECT * FROM agent.incidents WHERE fingerprint = f.fp AND last_seen_at >= :since"
    " AND resolved_at IS NULL"
    " ORDER BY last_seen_at DESC LIMIT 1) AS i"
)
_LATEST = (
    " SELECT desk, subject_key, venue, coalesce(correlation_id, id) AS correlation_id,"
    " last_seen_at FROM agent.incidents WHERE {match} AND last_seen_at >= :since"
    " ORDER BY last_seen_at DESC LIMIT 1) AS r"
)
_BY_PLACE = text(
    "SELECT r.* FROM unnest(CAST(:desks AS text[]), CAST(:subjects AS text[]))"
    " AS p(desk, subject_key) CROSS JOIN LATERAL ("
    + _LATEST.format(match="desk = p.desk AND subject_key = p.subject_key")
)
_BY_VENUE = text(
    "SELECT r.* FROM unnest(CAST(:venues AS text[])) AS v(venue) CROSS JOIN LATERAL ("
    + _LATEST.format(match="venue = v.venue AND venue <> ''")
)


@dataclass(frozen=True)
class Recent:
    """An incident seen recently, as far as correlation needs it."""

    desk: str
    subject_key: str
    venue: str
    correlation_id: str
    last_seen_at: datetime


async def lock_fingerprints(session: AsyncSession, fingerprints: Collection[str]) -> None:
    """Serialises intake of equal reports (until commit), so two never both create; sorted keys
    keep concurrent batches from deadlocking."""
    keys = sorted({int.from_bytes(bytes.fromhex(f[:16]), "big", signed=True) for f in fingerprints})
    if keys:
        await session.execute(_LOCK, {"keys": keys})


async def open_by_fingerprint(
    session: AsyncSession, fingerprints: Collection[str], since: datetime
) -> dict[str, Incident]:
    """The latest incident per fingerprint last seen at or after `since`."""
    rows = await session.execute(_OPEN, {"prints": sorted(set(fingerprints)), "since": since})
    return {row.fingerprint: incident_of(row) for row in rows}


async def recent(
    session: AsyncSession,
    places: Collection[tuple[str, str]],
    venues: Collection[str],
    since: datetime,
) -> list[Recent]:
    """The latest incident seen since `since` on each (desk, subject_key) place and each venue:
    one index probe each, however busy the venue."""
    ordered = sorted(places)
    by_place = await session.execute(
        _BY_PLACE,
        {"desks": [p[0] for p in ordered], "subjects": [p[1] for p in ordered], "since": since},
    )
    by_venue = await session.execute(_BY_VENUE, {"venues": sorted(venues), "since": since})
    return [
        Recent(r.desk, r.subject_key, r.venue, str(r.correlation_id), r.last_seen_at)
        for rows in (by_place, by_venue)
        for r in rows
    ]


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
