"""Reads of the records and their payloads (the sequencer writes them through appends.py); the
one place their rows become domain objects, and the lean page query of long streams."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import RawConnection
from services.audit.log.domain.filters import Filter
from services.audit.log.domain.records import Actor, Event, Record
from services.audit.tables import payloads, records

LeanRow = tuple[Any, ...]


async def page(
    session: AsyncSession,
    *,
    after_seq: int,
    limit: int,
    target: str = "",
    upto: int | None = None,
    where: Filter | None = None,
) -> list[Record]:
    """Up to `limit` records with seq > after_seq (and <= upto), in seq order."""
    query = _select_records().where(records.c.seq > after_seq)
    if target:
        query = query.where(records.c.target == target)
    if upto is not None:
        query = query.where(records.c.seq <= upto)
    if where is not None:
        query = query.where(*_clauses(where))
    rows = await session.execute(query.order_by(records.c.seq).limit(limit))
    return [_to_record(row) for row in rows]


def _clauses(where: Filter) -> list[Any]:
    found: list[Any] = []
    if where.since is not None:
        found.append(records.c.occurred_at >= where.since)
    if where.until is not None:
        found.append(records.c.occurred_at < where.until)
    if where.actor:
        found.append(records.c.actor["subject"].astext == where.actor)
    if where.action:
        found.append(records.c.action == where.action)
    if where.outcome:
        found.append(records.c.outcome == where.outcome)
    return found


def _select_records() -> Select[Any]:
    return select(records, payloads.c.payload_json).outerjoin(
        payloads, payloads.c.seq == records.c.seq
    )


def _to_record(row: Row[Any]) -> Record:
    event = Event(
        event_id=str(row.event_id),
        occurred_at=row.occurred_at,
        actor=to_actor(row.actor),
        action=row.action,
        target=row.target,
        outcome=row.outcome,
        trace_id=row.trace_id,
        source=row.source,
        payload_json=row.payload_json,
    )
    return Record(row.seq, event, row.payload_sha256, row.prev_hash, row.leaf_hash, row.recorded_at)


def to_actor(stored: Any) -> Actor:
    # Read leniently: a tampered actor must surface as a hash mismatch, not as a crash.
    actor: dict[str, Any] = stored if isinstance(stored, dict) else {}
    return Actor(
        subject=str(actor.get("subject", "")),
        roles=tuple(str(role) for role in actor.get("roles") or ()),
        kind=str(actor.get("kind", "")),
        logic_version=str(actor.get("logic_version", "")),
        desk=str(actor.get("desk", "")),
    )


# Exactly the fields a RecordPage message carries: times as epoch microseconds, the actor as
# its JSON text (few distinct actors, each parsed once by the caller), a redacted payload as "".
_LEAN_PAGE = """
SELECT r.seq, r.event_id::text, (extract(epoch FROM r.occurred_at) * 1000000)::bigint,
       r.actor::text, r.action, r.target, r.outcome, r.trace_id, r.source,
       coalesce(p.payload_json, ''), r.payload_sha256, r.prev_hash, r.leaf_hash,
       (extract(epoch FROM r.recorded_at) * 1000000)::bigint
FROM audit.records r LEFT JOIN audit.payloads p ON p.seq = r.seq
WHERE r.seq > %s AND r.seq <= %s
ORDER BY r.seq
LIMIT %s
"""


async def lean_page(connection: RawConnection, after: int, last: int, size: int) -> list[LeanRow]:
    """Up to `size` records with after < seq <= last as plain rows (see _LEAN_PAGE), in one
    keyset query on a plain connection."""
    async with connection.cursor() as cursor:
        await cursor.execute(_LEAN_PAGE, (after, last, size))
        return await cursor.fetchall()
