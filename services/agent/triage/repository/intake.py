"""SQL of intake: fingerprint locks, open incidents by fingerprint, recent incidents to correlate
with, and writing new and folded incidents in bulk."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.triage.domain.incidents import Incident
from services.agent.triage.domain.intake import Recent
from services.agent.triage.repository.incidents import incident_of

_LOCK = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k")
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
